"""nbgrader's step folders come from nbgrader's own CourseDirectory (coordkit.course.step_path), so a course
whose nbgrader_config.py renames one is followed, never guessed."""

import pytest

from coordkit.course import step_path, submitted_students


def test_default_layout(settings, tmp_path):
    course = settings.with_overrides(course_root=tmp_path)
    assert step_path(course, "release", assignment="cs01_job_loss") == tmp_path / "release" / "." / "cs01_job_loss"
    assert step_path(course, "feedback", student="tr001", assignment="cs01_job_loss") == \
        tmp_path / "feedback" / "tr001" / "cs01_job_loss"


def test_a_renamed_step_folder_is_followed(settings, tmp_path):
    (tmp_path / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.submitted_directory = "handed_in"\n',
                                                encoding="utf-8")
    (tmp_path / "handed_in" / "tr007" / "cs01_job_loss").mkdir(parents=True)
    (tmp_path / "submitted" / "tr999" / "cs01_job_loss").mkdir(parents=True)     # not nbgrader's folder here
    course = settings.with_overrides(course_root=tmp_path)
    assert step_path(course, "submitted", student="tr007", assignment="cs01_job_loss") == \
        tmp_path / "handed_in" / "tr007" / "cs01_job_loss"
    assert submitted_students(course, "cs01_job_loss") == ["tr007"]


def test_an_unknown_step_is_refused(settings):
    with pytest.raises(ValueError, match="step 'graded' is not one of source, release, submitted"):
        step_path(settings, "graded")
