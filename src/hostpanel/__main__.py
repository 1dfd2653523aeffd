from hostpanel.cli import main

main()
