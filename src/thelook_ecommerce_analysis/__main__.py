"""`python -m thelook_ecommerce_analysis` is the `thelook` command."""

from thelook_ecommerce_analysis.cli import main

main()
