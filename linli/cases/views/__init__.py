"""The cases screens: resident (report, QR, my cases), workbench, maps, 公示, QR posters."""
