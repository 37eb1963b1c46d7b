"""The shared vocabularies of the toolkit, each defined once: the stages and gates of the training, the
competencies, the life domains (as item banks tag them and as the book's chapters cover them), the
organisation types that run a counter, the prefectures, the consultation topics.

Modules that validate, simulate or display these values import them from here (the names they had
before stay importable from those modules). Weights and labels that only one module uses (e.g. the
simulated cohort's prefecture weights) stay in that module, and tests check their keys against these
vocabularies. This module imports nothing, so anything may import it.
"""

from __future__ import annotations

# The training, stage by stage (curriculum §3): TP1 -> confirmation test -> practice -> TP2 -> completion
# test -> certification. enrolment.csv records one row per trainee and stage reached.
STAGES = ("enrolled", "tp1", "tp1_check", "practice", "tp2", "completion_test", "certified")
STAGE_LABELS = {"enrolled": "受講開始", "tp1": "養成課程1", "tp1_check": "総合確認テスト", "practice": "実践",
                "tp2": "養成課程2", "completion_test": "修了認定テスト", "certified": "認定"}
SUCCESS = {"enrolled": "enrolled", "tp1": "completed", "tp1_check": "passed", "practice": "completed",
           "tp2": "attended", "completion_test": "passed", "certified": "certified"}
FAILURE = {"tp1": ("withdrawn",), "tp1_check": ("failed",), "practice": ("withdrawn", "failed"),
           "tp2": ("absent",), "completion_test": ("failed",)}
GATES = ("tp1_check", "completion_test")       # the stages decided by a test (pass marks: coordkit.rule)

COMPETENCIES = ("C1", "C2", "C3", "C4")

# Life domains (curriculum §5), as item banks tag items (`domains:` in graders/items/*.yml).
LIFE_DOMAINS = ("residence", "registration", "labour", "health", "pension", "tax", "childbirth", "childcare",
                "education", "family", "dv", "human_rights", "housing", "welfare", "disaster", "consumer",
                "language")
# The life-domain chapters of the book (book/domains/<chapter>.md), each with the life domain it covers;
# a glossary entry's `domain` names a chapter.
DOMAIN_CHAPTERS = {
    "residence_procedures": "residence",
    "labour_and_job_loss": "labour",
    "health_insurance_and_medical_care": "health",
    "pension_and_social_insurance": "pension",
    "taxes": "tax",
    "childrens_education": "education",
    "pregnancy_childbirth_childcare": "childbirth",
    "housing": "housing",
    "disaster_preparedness": "disaster",
    "violence_and_abuse": "dv",
    "japanese_language": "language",
}

# Who runs a consultation counter (trainees.csv org_type).
ORG_TYPES = ("municipality", "prefecture", "designated_city", "international_association", "national_government")
ORG_TYPE_LABELS = {"municipality": "市区町村", "prefecture": "都道府県", "designated_city": "政令指定都市",
                   "international_association": "国際交流協会等（委託）", "national_government": "国の機関"}

# JIS X 0401 order; the published register export lists prefectures in this order.
PREFECTURES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県",
    "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県",
    "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県",
    "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県",
    "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
)

# Consultation topics (consultations.csv topic): the top five are those of the one-stop centres' FY2023
# statistics (curriculum section 8.3); the rest follow the life domains of section 5.
TOPICS = {
    "tax": "税金", "procedures": "各種手続", "social_insurance": "社会保険・年金", "immigration": "在留手続",
    "interpretation": "通訳・翻訳", "labour": "労働", "medical": "医療", "childcare_education": "出産・子育て・教育",
    "housing": "住まい", "welfare": "生活困窮・福祉", "dv": "DV・暴力", "family": "婚姻・離婚・国籍",
    "consumer": "消費生活・事故", "japanese_language": "日本語学習", "disaster": "防災", "other": "その他",
}
