module edirunbook.local/pause

go 1.24
