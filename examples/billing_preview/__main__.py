from examples.billing_preview.cli import main

main()
