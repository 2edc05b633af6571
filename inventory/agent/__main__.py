from inventory.agent.cli import main

raise SystemExit(main())
