from tlkit.grading.cli import main

raise SystemExit(main())
