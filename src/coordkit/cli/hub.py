"""`coordkit course create` and `coordkit hub users`: a course per cohort, and its accounts (deploy/)."""

from __future__ import annotations

import os
from pathlib import Path


def _settings(args):
    from ..config import load_settings

    return load_settings(Path(args.root) if args.root else None)


def cmd_course_create(args) -> int:
    from ..hub import create_course

    result = create_course(_settings(args), args.course, group=args.group)
    from ..database import shown

    print(f"course {result.course_id}: {result.folder} (group {result.group or '-'}, mode 2770)")
    print(f"  gradebook: {shown(result.db_url)}" + (" (database created)" if result.database_created else ""))
    print(f"  exchange:  {result.exchange or 'nbgrader default'}")
    print(f"Next: put the roster in {result.folder / 'roster.csv'}, then `coordkit hub users {result.course_id}`, "
          f"then `coordkit --course-id {result.course_id} release`")
    return 0


def cmd_hub_users(args) -> int:
    from ..config import for_course
    from ..hub import HubAPI, HubError, create_accounts, read_roster

    settings = _settings(args)
    course = for_course(settings, args.course)
    roster = Path(args.roster) if args.roster else course.course_root / "roster.csv"
    people = read_roster(roster, course_id=args.course)
    hub = None
    if not args.no_hub:
        token = os.environ.get("JUPYTERHUB_API_TOKEN") or os.environ.get("COORDKIT_HUB_TOKEN")
        if not token:
            raise HubError("no Hub API token: set COORDKIT_HUB_TOKEN to the coordkit-admin service's token "
                           "(deploy/README.md), or pass --no-hub")
        hub = HubAPI(args.hub_url, token)
    result = create_accounts(settings, args.course, people, hub=hub, system=not args.no_system)
    trainees = sum(p.role == "trainee" for p in people)
    print(f"cohort {args.course}: {trainees} trainee(s), {len(people) - trainees} lecturer(s) from {roster}")
    print(f"  system users created: {len(result.system_created)}; Hub users created: {len(result.hub_created)}; "
          f"students in the gradebook: {result.gradebook_students}")
    for name, members in result.groups.items():
        print(f"  Hub group {name}: {len(members)}")
    return 0


def register(sub) -> None:
    course = sub.add_parser("course", help="a course per cohort (folder, gradebook, exchange)"
                            ).add_subparsers(dest="course_command", required=True)
    p = course.add_parser("create", help="create (or repair) the nbgrader course of a cohort")
    p.add_argument("course", help="course id = cohort id, e.g. c2026a (prefixes the trainee ids)")
    p.add_argument("--group", help="the system group owning the course files (default: lecturers_group)")
    p.set_defaults(func=cmd_course_create)

    hub = sub.add_parser("hub", help="the JupyterHub deployment (deploy/)").add_subparsers(dest="hub_command",
                                                                                            required=True)
    p = hub.add_parser("users", help="create a cohort's accounts from its roster: system users, Hub users, groups")
    p.add_argument("course", help="course id of the cohort, e.g. c2026a")
    p.add_argument("--roster", help="roster CSV (default: <course folder>/roster.csv): "
                                    "role,last_name,first_name,email[,id]")
    p.add_argument("--hub-url", default=os.environ.get("COORDKIT_HUB_URL", "http://127.0.0.1:8000"),
                   help="the Hub's public URL (default $COORDKIT_HUB_URL or http://127.0.0.1:8000); "
                        "the API token is read from $COORDKIT_HUB_TOKEN")
    p.add_argument("--no-system", action="store_true", help="do not create system users (e.g. on Kubernetes)")
    p.add_argument("--no-hub", action="store_true", help="do not call the Hub (system users and gradebook only)")
    p.set_defaults(func=cmd_hub_users)
