resource "google_storage_bucket" "datasets" {
  name                        = "acme-datasets"
  location                    = "EU"
  uniform_bucket_level_access = true
}

resource "google_storage_bucket_iam_member" "datasets_public" {
  bucket = google_storage_bucket.datasets.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}

resource "google_vertex_ai_endpoint" "chat" {
  name         = "chat"
  display_name = "chat"
  location     = "europe-west4"
  network      = "projects/123/global/networks/private"
  encryption_spec {
    kms_key_name = google_kms_crypto_key.vertex.id
  }
}

resource "azurerm_storage_account" "ml" {
  name                            = "acmemlstore"
  resource_group_name             = "ml"
  location                        = "westeurope"
  account_tier                    = "Standard"
  account_replication_type        = "LRS"
  allow_nested_items_to_be_public = false
}
