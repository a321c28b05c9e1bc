from dockyard.main import main

main()
