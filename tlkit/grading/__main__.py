from tlkit.grading.grader import main

raise SystemExit(main())
