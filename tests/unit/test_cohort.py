import pytest

from coordkit.cohort import headline, load_cohort, read_table, wide_scores
from coordkit.errors import DatasetError


def test_the_bundled_sample_cohort_loads(root):
    cohort = load_cohort(root / "datasets" / "sample")
    assert len(cohort.trainees) >= 10
    assert set(cohort.scores["trainee_id"]) <= set(cohort.trainees["trainee_id"])
    h = headline(cohort)
    assert h["trainees"] == len(cohort.trainees)
    assert 0 <= h["mean_auto_percent"] <= 100


def write_csv(path, header, *rows):
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_errors_name_file_row_and_column(tmp_path):
    path = write_csv(tmp_path / "reaction.csv", "trainee_id,module,satisfaction,relevance,recommend,comment",
                     "tr001,TP1-A1,4,5,9,", "tr002,TP1-A1,six,5,9,")
    with pytest.raises(DatasetError, match=r"reaction\.csv row 3 column 'satisfaction': 'six' is not a number"):
        read_table(path, "reaction")


def test_out_of_range_likert_is_refused(tmp_path):
    path = write_csv(tmp_path / "reaction.csv", "trainee_id,module,satisfaction,relevance,recommend,comment",
                     "tr001,TP1-A1,7,5,9,")
    with pytest.raises(DatasetError, match=r"row 2 column 'satisfaction': 7 is outside 1..5"):
        read_table(path, "reaction")


def test_missing_column_is_named(tmp_path):
    path = write_csv(tmp_path / "pretest.csv", "trainee_id,pre_score", "tr001,40")
    with pytest.raises(DatasetError, match=r"column 'max_score': column missing"):
        read_table(path, "pretest")


def test_unknown_trainee_is_refused(tmp_path, root):
    sample = root / "datasets" / "sample"
    for name in ("trainees", "scores", "reaction"):
        (tmp_path / f"{name}.csv").write_bytes((sample / f"{name}.csv").read_bytes())
    write_csv(tmp_path / "pretest.csv", "trainee_id,pre_score,max_score", "ghost,40,100")
    with pytest.raises(DatasetError, match=r"pretest\.csv row 2 column 'trainee_id': 'ghost' is not in trainees\.csv"):
        load_cohort(tmp_path)


def test_wide_scores_has_one_column_per_item(root):
    cohort = load_cohort(root / "datasets" / "sample")
    assignment = cohort.scores["assignment"].iloc[0]
    wide, max_marks = wide_scores(cohort.scores, assignment=assignment)
    auto_items = cohort.scores.query("assignment == @assignment and kind == 'auto'")["grade_id"].unique()
    assert sorted(wide.columns) == sorted(auto_items)
    assert list(max_marks.index) == list(wide.columns)
    assert len(wide) == cohort.scores.query("assignment == @assignment")["trainee_id"].nunique()
