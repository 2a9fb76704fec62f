from instructor.grading.cli import main

raise SystemExit(main())
