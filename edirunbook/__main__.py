import sys

from edirunbook.cli import main

sys.exit(main())
