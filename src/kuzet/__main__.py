from kuzet.cli.main import main

main()
