import sys

from ganbuilder.cli import main

sys.exit(main())
