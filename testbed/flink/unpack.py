"""Unpack PyPI's Flink packages into one FLINK_HOME, keeping the scripts' run bits.

Usage: unpack.py <dest-home> <archive>...
- apache-flink-libraries: an sdist (deps/{lib,opt,plugins,bin,licenses}/...) or a wheel
  (pyflink/{lib,opt,plugins,bin,licenses}/...);
- apache-flink: a wheel whose pyflink/bin/ (scripts) and pyflink/conf/ complete the home.
Python's own tarfile/zipfile, because pip is already required and unzip may be missing.
"""
import os
import sys
import tarfile
import zipfile

KEEP = ("lib/", "opt/", "plugins/", "bin/", "conf/", "licenses/")


def home_relative(name):
    """Path inside FLINK_HOME for an archive member, or None to skip it."""
    parts = name.split("/")
    for i, part in enumerate(parts[:-1]):
        if part in ("deps", "pyflink"):
            rest = "/".join(parts[i + 1:])
            # pyflink/ in the libraries sdist is Python source; only deps/ and wheels' pyflink/ hold the distribution.
            if rest.startswith(KEEP) and not rest.endswith("/") and not rest.endswith(".py"):
                return rest
            return None
    return None


def write(dest, rel, data, mode):
    out = os.path.join(dest, rel)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "wb") as f:
        f.write(data)
    # Wheels and sdists record 0o755 for scripts; keep it, default to 0o644.
    os.chmod(out, (mode & 0o777) or 0o644)


def unpack(dest, archive):
    count = 0
    if archive.endswith(".whl") or archive.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                rel = home_relative(info.filename)
                if rel:
                    with z.open(info) as src:
                        write(dest, rel, src.read(), info.external_attr >> 16)
                    count += 1
    else:
        with tarfile.open(archive, "r:*") as t:
            for member in t:
                if not member.isfile():
                    continue
                rel = home_relative(member.name)
                if rel:
                    src = t.extractfile(member)
                    write(dest, rel, src.read(), member.mode)
                    count += 1
    return count


def main():
    dest = sys.argv[1]
    for archive in sys.argv[2:]:
        n = unpack(dest, archive)
        if n == 0:
            sys.exit("no Flink distribution files in " + archive)
        print("%s: %d files" % (os.path.basename(archive), n))


if __name__ == "__main__":
    main()
