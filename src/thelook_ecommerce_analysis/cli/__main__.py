"""`python -m thelook_ecommerce_analysis.cli` is the `thelook` command; the app starts the embedded LLM
server as a child with `python -m thelook_ecommerce_analysis.cli llm serve ...`."""

from thelook_ecommerce_analysis.cli import main

main()
