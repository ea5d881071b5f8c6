"""How fast the event log takes events from many writers: the group-committing
EventWriter against one commit per event, in the same run, as a ratio.

    python scripts/bench_event_log.py [--processes 4] [--threads 4] [--events 2000]

Run it by hand; the machine's noise makes absolute numbers meaningless, the ratio less so.
"""

import argparse
import multiprocessing
import tempfile
import threading
import time
from pathlib import Path

from costcutter.store import EventStore, EventWriter, new_event


def _write_grouped(db_path, run_id, threads, per_thread):
    writer = EventWriter(db_path)

    def send(thread):
        for n in range(per_thread):
            writer.submit(new_event(run_id, "deleted", resource_id=f"{thread}-{n}"), durable=n % 10 == 0)

    _in_threads(send, threads)
    writer.close()


def _write_one_by_one(db_path, run_id, threads, per_thread):
    store = EventStore(db_path)
    lock = threading.Lock()  # one connection, as the writer has; a commit per event

    def send(thread):
        for n in range(per_thread):
            with lock:
                store.append([new_event(run_id, "deleted", resource_id=f"{thread}-{n}")])

    _in_threads(send, threads)
    store.close()


def _in_threads(target, count):
    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def measure(writer, processes, threads, per_thread) -> float:
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "bench.db"
        store = EventStore(db_path)
        run_id = store.create_run({}, None, dry_run=True)
        context = multiprocessing.get_context("spawn")
        started = time.perf_counter()
        workers = [context.Process(target=writer, args=(db_path, run_id, threads, per_thread)) for _ in range(processes)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        written = store.event_counts(run_id).get("deleted", 0)
        assert written == processes * threads * per_thread, f"lost events: {written}"
        return written / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--events", type=int, default=2000, help="events per thread")
    args = parser.parse_args()
    grouped = measure(_write_grouped, args.processes, args.threads, args.events)
    single = measure(_write_one_by_one, args.processes, args.threads, args.events)
    print(f"{args.processes} processes x {args.threads} threads x {args.events} events")
    print(f"group commit (EventWriter): {grouped:10.0f} events/s")
    print(f"one commit per event:       {single:10.0f} events/s")
    print(f"ratio: {grouped / single:.1f}x")


if __name__ == "__main__":
    main()
