"""`python -m cli`: the `kb` command of this checkout, without the installed script."""

from . import cli

cli(prog_name="kb")
