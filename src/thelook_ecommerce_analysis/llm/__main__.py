"""`python -m thelook_ecommerce_analysis.llm serve ...`: how the app runs the embedded server as a child.

Runs the same click group as `thelook llm`, without importing the whole CLI, and prints a ThelookError as
one `error:` line (the parent shows the last line of the child's log when the start fails).
"""

import sys

import click

from thelook_ecommerce_analysis.errors import ThelookError
from thelook_ecommerce_analysis.llm.command import llm_group

try:
    llm_group.main(standalone_mode=False)
except ThelookError as error:
    click.echo(f"error: {error}", err=True)
    sys.exit(1)
except click.ClickException as error:
    error.show()
    sys.exit(error.exit_code)
