"""What the benchmarks share, so that each benchmark module holds only what it measures.

- `cli`: the command line (`--database-url`, `--quick` and the sizes it picks, `--keep`, …);
- `databases`: the database a run uses (a temporary SQLite file or a PostgreSQL database
  prepared for it), and the app's settings for it;
- `seeding`: bulk loading in a child process, timed step by step;
- `stats`: percentiles and rates from timings;
- `memory`: resident set sizes;
- `sql`: the SQL statements a run executes, timed, and their plans;
- `report`: the printed report: its header, latency tables, the goals table and the exit
  status.
"""
