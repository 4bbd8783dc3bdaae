from weaponsdb.cli import main

main()
