from tests.conftest import create_app_for
from tests.releases.helpers import *
from tests.releases.test_builds import make_tarball

async def test_probe(client, user, source, scheduler, marker, settings, tmp_path):
    archive = make_tarball(source, tmp_path / "app.tar.gz")
    await create_app_for(client, user, "probe")
    procfile = {"web": f"python3 web.py {marker} override", "clock": "sleep 1000"}
    r = await build(client, user, "probe", archive, procfile=procfile)
    print(r.text)
    print(await logs(client, user, "probe"))
    import subprocess
    print(subprocess.run(f"ls -laR {settings.data_dir}/builds", shell=True, capture_output=True, text=True).stdout)
