"""`python -m makegood ...` runs the same command as `makegood ...`."""

from makegood.cli.main import main

main()
