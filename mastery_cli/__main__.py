from mastery_cli.cli import main

main()
