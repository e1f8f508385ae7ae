package vault_test

import (
	"github.com/hashicorp/vault/api"

	"github.com/rampartsec/rampart/secretref/vault"
)

func vaultClientForTest(addr, roleID, secretID string) (*vault.Client, error) {
	cfg := api.DefaultConfig()
	cfg.Address = addr
	cfg.MaxRetries = 0
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	return vault.NewClient(c, &vault.AppRole{RoleID: roleID, SecretID: secretID}), nil
}
