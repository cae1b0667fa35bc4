"""The catalog's web pages: home, the catalog table, entity pages and their tabs."""
