from dockyard.router.server import main

raise SystemExit(main())
