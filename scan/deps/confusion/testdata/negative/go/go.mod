module acme.internal/ml/svc

go 1.22

require acme.internal/ml/acme-core v0.1.0
