# ZIM archives as resources: path and title mapping, the titles file, ids and
# languages from metadata, the catalogue's entries (article titles).
cs_unit_test(test_zim cs_sync_zim PkgConfig::SQLITE3)
