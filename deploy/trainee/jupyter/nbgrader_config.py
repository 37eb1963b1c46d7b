# A trainee's nbgrader (the Assignments tab): their cohort's course and the site's exchange, from the
# environment the Hub's spawner sets (deploy/jupyterhub_config.py). Nothing else: a trainee's account
# has no course folder and no gradebook.
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = os.environ.get("COORDKIT_COURSE", "")
c.Exchange.root = os.environ.get("COORDKIT_EXCHANGE", "/srv/nbgrader/exchange")
c.Exchange.path_includes_course = True
