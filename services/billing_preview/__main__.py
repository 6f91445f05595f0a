from services.billing_preview.cli import main

main()
