"""make bench's first web baseline, a bare Flask echo under the services' gunicorn settings, starts and
answers (a change to deploy/gunicorn.conf.py once stopped make bench there)."""
from bench import baselines


def test_the_flask_echo_baseline_runs_under_the_services_gunicorn_settings(tmp_path):
    run = baselines.flask_echo(tmp_path, web_workers=1, clients=2, total=20)
    assert run.errors == 0 and len(run.latencies) == 20
