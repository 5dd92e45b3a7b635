from moyai.cli import main

main()
