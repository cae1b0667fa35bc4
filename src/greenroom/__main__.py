from greenroom.cli import main

main()
