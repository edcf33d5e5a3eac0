"""Demo store: a believable synthetic city of representative persons, deterministic for a seed.

`generate_demo(engine, persons=N, seed=S)` serves the tests, `python -m loaders demo`,
the run command (`--if-empty`) and the benchmarks. Rows are generated and inserted
chunk by chunk with bulk Core inserts, so memory stays flat as N grows; the only
per-person state kept is a few bytes (district, stage, discovery day) needed to pick
believable participants for activities.

Shapes, not uniform noise: category sizes like a real city's, districts weighted,
a lifecycle funnel with increasing dates, appointments on real 5-year cycles (some
ending soon), ~1 activity per 10 persons over three years with registration →
review → check-in/absent, `updated_at` spread so that a real share is stale, and
the representatives' own responses through their personal links (confirmations,
corrections waiting or turned down, suggestions in every state).
"""

from __future__ import annotations

import random
import sys
import time
from array import array
from bisect import bisect
from collections.abc import Sequence
from functools import lru_cache
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, func, inspect, select, text

from store import clock
from store.migrate import DATA_DIR, read_csv_rows
from store.schema import (
    activity,
    appointment,
    participation,
    person,
    person_tag,
    rep_request,
    rep_request_field,
    rep_suggestion,
    stage_event,
    tag,
)
from store.changes import open_change_set

CHUNK_ROWS = 10_000
ACTIVITY_YEARS = 3
HISTORY_DAYS = 3650          # persons were discovered over the last ten years
UPCOMING_SHARE = 0.05        # activities announced but not yet held
UPCOMING_DAYS = 60
MIN_AGE, MAX_AGE = 25, 85


# ---------------------------------------------------------------------------
# Weighted choice tables: (items, cumulative weights, total), picked with bisect.
# ---------------------------------------------------------------------------

def _table(pairs) -> tuple[tuple, list[float], float]:
    if isinstance(pairs, dict):
        pairs = pairs.items()
    items, cum, total = [], [], 0.0
    for item, weight in pairs:
        total += weight
        items.append(item)
        cum.append(total)
    return tuple(items), cum, total


def _pick(rng: random.Random, table):
    items, cum, total = table
    return items[bisect(cum, rng.random() * total)]


# random.randint/choice cost ~1 µs each through randrange; these are 4x cheaper and
# just as deterministic, which matters at millions of calls.
def _rint(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


def _choice(rng: random.Random, seq: Sequence):
    return seq[int(rng.random() * len(seq))]


# ---------------------------------------------------------------------------
# Reference pools
# ---------------------------------------------------------------------------

# Zhejiang-flavoured surname frequencies (per cent, roughly).
SURNAMES = _table({
    "陈": 8.5, "王": 7.2, "张": 5.0, "李": 4.5, "徐": 3.6, "吴": 3.3, "周": 3.0, "沈": 2.4,
    "朱": 2.3, "金": 2.2, "杨": 2.1, "黄": 2.0, "胡": 2.0, "方": 1.8, "孙": 1.7, "刘": 1.6,
    "俞": 1.6, "叶": 1.6, "钱": 1.5, "何": 1.5, "林": 1.5, "许": 1.4, "郑": 1.3, "章": 1.3,
    "汪": 1.2, "邵": 1.1, "蒋": 1.1, "赵": 1.1, "楼": 1.0, "潘": 1.0, "傅": 0.9, "姚": 0.9,
    "陆": 0.9, "袁": 0.8, "丁": 0.8, "范": 0.7, "施": 0.7, "顾": 0.7, "马": 0.7, "韩": 0.6,
    "宋": 0.6, "唐": 0.6, "冯": 0.6, "董": 0.6, "程": 0.6, "洪": 0.6, "应": 0.6, "谢": 0.6,
    "吕": 0.6, "郭": 0.6, "高": 0.6, "毛": 0.6, "盛": 0.5, "罗": 0.5, "曹": 0.5, "姜": 0.5,
    "夏": 0.5, "卢": 0.5, "戴": 0.5, "蔡": 0.5, "余": 0.5, "江": 0.4, "严": 0.4, "邱": 0.4,
    "骆": 0.4, "童": 0.4, "倪": 0.4, "梁": 0.4, "孔": 0.3, "裘": 0.3, "詹": 0.3, "鲍": 0.3,
    "华": 0.3, "杜": 0.3, "任": 0.3, "田": 0.3, "彭": 0.3, "闻": 0.2, "虞": 0.2, "单": 0.2,
    "欧阳": 0.1, "诸葛": 0.05, "司马": 0.03, "上官": 0.03,
})
GIVEN_M = tuple("伟强磊军勇杰涛斌明建华国平刚辉鹏峰超波俊浩宇晨轩哲昊宁凯林翔文东海亮龙飞志兴荣良新卫忠祥永康博睿铭泽天然洋阳航帆锋毅骏豪正")
GIVEN_F = tuple("芳娟敏静丽艳娜霞婷燕玲红洁琳颖倩慧萍雪梅莉晶丹青佳欣怡悦瑶璐琪蕾雯琦婕彤妍晓春秋月蓉薇岚露霖萱涵思雨嘉")
GIVEN_ANY = tuple("文华明晓建小一子云亦之家志宏海立永俊晨雨")

MINORITIES = _table({
    "畲族": 30, "回族": 20, "满族": 12, "土家族": 8, "苗族": 8, "蒙古族": 5, "壮族": 5,
    "布依族": 3, "侗族": 3, "彝族": 2, "朝鲜族": 2, "藏族": 1, "维吾尔族": 1,
})
MINORITY_SURNAMES = {
    "畲族": _table({"蓝": 40, "雷": 35, "钟": 20, "李": 5}),
    "回族": _table({"马": 30, "白": 10, "丁": 8, "杨": 8, "李": 8, "王": 8, "哈": 5, "沙": 5, "穆": 3, "纳": 3}),
    "满族": _table({"关": 10, "佟": 8, "那": 5, "金": 8, "赵": 8, "王": 10, "富": 3, "唐": 5}),
    "朝鲜族": _table({"金": 40, "朴": 25, "李": 15, "崔": 10, "郑": 10}),
    "苗族": _table({"龙": 20, "吴": 20, "杨": 20, "石": 15, "麻": 10, "王": 15}),
    "土家族": _table({"向": 20, "田": 20, "彭": 20, "覃": 15, "冉": 10, "张": 15}),
    "壮族": _table({"韦": 30, "覃": 25, "黄": 20, "蒙": 10, "陆": 15}),
    "侗族": _table({"吴": 40, "杨": 30, "石": 15, "龙": 15}),
    "布依族": _table({"王": 30, "罗": 25, "韦": 25, "班": 20}),
    "彝族": _table({"阿": 20, "沙": 20, "吉": 20, "李": 20, "杨": 20}),
}
UYGHUR = (("买买提", "艾尔肯", "阿不都", "艾克拜尔", "热合曼", "吐尔逊"),
          ("古丽娜尔", "热依拉", "阿依古丽", "迪丽娜尔", "米热古丽", "帕提古丽"),
          ("艾力", "吐尔逊", "买买提", "阿不都", "热合曼", "司马义", "依明"))
TIBETAN = (("扎西", "次仁", "多吉", "格桑", "丹增", "平措"), ("卓玛", "央金", "拉姆", "德吉", "曲珍", "措姆"))
MONGOL = (("巴特尔", "苏和", "额尔敦", "朝鲁"), ("其木格", "乌日娜", "斯琴", "萨仁"))

DEMOCRATIC_PARTY_WEIGHTS = {
    "cdl": 20, "cndca": 18, "capd": 16, "jiusan": 14, "cpwdp": 12, "rcck": 10, "zhigong": 7, "tdsl": 3,
}
EIGHT_PARTIES = frozenset(DEMOCRATIC_PARTY_WEIGHTS)

EDUCATION = ("博士研究生", "硕士研究生", "大学本科", "大学专科", "高中及以下")
TITLES = ("正高级", "副高级", "中级", "初级", "无")
TITLE_RANK = {t: i for i, t in enumerate(TITLES)}

PHONE_PREFIXES = tuple(
    "138 139 137 136 135 134 150 151 152 158 159 182 183 187 188 130 131 132 155 156 "
    "185 186 133 153 180 181 189 177 176 199 166 173 191 198 178 147".split()
)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

# Where representative persons live: urban districts and universities weigh more.
DISTRICT_WEIGHTS = {
    "330102": 12, "330105": 11, "330106": 14, "330108": 9, "330109": 12, "330110": 11,
    "330113": 7, "330114": 6, "330111": 5, "330112": 4, "330122": 3, "330127": 2.5, "330182": 3,
}

BRAND = tuple("华信恒达海天正泰鑫宏远博创新锦盛中联安瑞智云星汇德元融捷卓越诚和万嘉康源通明宇丰金蓝绿")
INDUSTRY = _table({
    "科技": 15, "网络科技": 10, "电子商务": 8, "智能科技": 6, "生物医药": 5, "新材料": 4, "实业": 8,
    "建设": 5, "贸易": 6, "纺织": 4, "食品": 3, "文化传媒": 4, "餐饮管理": 3, "物流": 3, "机械": 4,
    "汽车零部件": 3, "环保科技": 3, "信息技术": 6, "投资管理": 2, "服饰": 3, "茶业": 2,
})
COMPANY_SUFFIX = _table({"有限公司": 70, "股份有限公司": 15, "集团有限公司": 15})
UNIVERSITIES = ("浙江大学", "西湖大学", "杭州电子科技大学", "浙江工业大学", "浙江理工大学", "杭州师范大学",
                "中国美术学院", "浙江工商大学", "浙江中医药大学", "浙江财经大学", "中国计量大学",
                "浙江科技大学", "浙江传媒学院", "浙江外国语学院", "杭州医学院", "浙大城市学院")
COLLEGES = ("计算机科学与技术学院", "医学院", "管理学院", "经济学院", "法学院", "化学工程学院", "机械工程学院",
            "信息与电子工程学院", "人文学院", "外国语学院", "材料科学与工程学院", "生命科学学院",
            "建筑工程学院", "马克思主义学院", "艺术与设计学院", "数学科学学院")
HOSPITALS = ("浙江大学医学院附属第一医院", "浙江大学医学院附属第二医院", "浙江大学医学院附属邵逸夫医院",
             "浙江大学医学院附属妇产科医院", "浙江大学医学院附属儿童医院", "浙江省人民医院", "浙江省中医院",
             "杭州市第一人民医院", "杭州市中医院", "杭州市红十字会医院", "杭州市妇产科医院",
             "杭州市儿童医院", "杭州市第三人民医院", "{d}第一人民医院", "{d}中医院")
DEPARTMENTS = ("心血管内科", "呼吸内科", "消化内科", "普外科", "骨科", "神经内科", "儿科", "妇产科",
               "眼科", "肿瘤科", "影像科", "检验科", "中医科", "急诊科")
INSTITUTES = ("中国科学院杭州医学研究所", "之江实验室", "浙江省农业科学院", "浙江省医学科学院",
              "杭州市农业科学研究院", "浙江省水利河口研究院", "良渚实验室", "西湖实验室", "湖畔实验室",
              "浙江省建筑设计研究院", "杭州市城市规划设计研究院", "中国电子科技集团公司第五十二研究所")
SCHOOLS = ("杭州第二中学", "杭州学军中学", "杭州高级中学", "杭州第十四中学", "杭州外国语学校",
           "杭州师范大学附属中学", "浙江大学附属中学", "杭州市长寿桥小学", "杭州市天长小学",
           "杭州市胜利小学", "杭州市求是教育集团", "{d}实验学校", "{d}第二高级中学", "{d}职业高级中学")
CULTURE = ("浙江省博物馆", "杭州图书馆", "杭州市文化馆", "浙江交响乐团", "杭州话剧艺术中心",
           "浙江日报报业集团", "杭州日报报业集团", "浙江广播电视集团", "杭州市园林文物局", "西泠印社")
BUREAUS = ("教育局", "卫生健康委员会", "科学技术局", "民政局", "市场监督管理局", "司法局", "文化广电旅游局",
           "生态环境局", "自然资源和规划局", "统计局", "审计局", "民族宗教事务局", "侨务办公室")
RELIGIOUS_SITES = (
    ("灵隐寺", ("住持", "监院", "知客", "法师")), ("净慈寺", ("住持", "监院", "法师")),
    ("永福寺", ("住持", "法师")), ("径山寺", ("住持", "监院", "法师")),
    ("杭州市佛教协会", ("会长", "副会长", "秘书长")),
    ("凤凰寺", ("教长", "阿訇", "管委会主任")), ("杭州市伊斯兰教协会", ("会长", "副会长")),
    ("杭州基督教崇一堂", ("主任牧师", "牧师", "长老")), ("杭州基督教鼓楼堂", ("牧师", "长老", "传道员")),
    ("杭州市基督教两会", ("主席", "会长", "副会长")),
    ("杭州天主堂", ("主任神父", "神父", "修女")), ("杭州市天主教爱国会", ("主任", "副主任")),
    ("抱朴道院", ("住持", "道长")), ("杭州市道教协会", ("会长", "副会长", "秘书长")),
)
SOCIAL_ORGS = {
    "default": ("杭州市{b}公益服务中心", "杭州市{b}慈善基金会", "杭州市青年企业家协会", "杭州市女企业家协会",
                "杭州市社会组织促进会", "{d}{b}社工服务社", "杭州市志愿者协会"),
    "hk_macao": ("杭州市港澳青年联谊会", "香港杭州联谊会", "澳门浙江同乡会"),
    "taiwan": ("杭州市台商投资企业协会", "杭州市台胞联谊会", "浙江省台湾同胞联谊会"),
    "overseas_chinese": ("杭州市归国华侨联合会", "杭州市侨商会", "{d}侨联", "杭州市华侨捐赠事业促进会"),
    "ethnic_minority": ("杭州市少数民族联谊会", "杭州市畲族文化研究会", "{d}少数民族联谊会"),
}
FOREIGN_FIRM = ("{b}（杭州）有限公司", "{b}（中国）投资有限公司", "杭州{b}实业有限公司", "{b}（浙江）电子有限公司")
MEDIA_ORGS = ("杭州{b}文化传媒有限公司", "杭州{b}网络科技有限公司", "{b}设计工作室", "自由职业")
LAW_ORGS = ("浙江{b}律师事务所", "浙江{b}{c}律师事务所", "浙江天册律师事务所", "国浩律师（杭州）事务所",
            "北京大成（杭州）律师事务所")
ACCOUNTING_ORGS = ("浙江{b}会计师事务所", "天健会计师事务所", "杭州{b}税务师事务所", "浙江{b}资产评估有限公司")
COMMUNITY_ORGS = ("{s}{b}社区居民委员会", "{s}{b}村村民委员会", "{s}办事处", "{d}{b}物业服务有限公司")

# Sector: organisation patterns and positions by professional title ("*" when the title does not matter).
SECTORS = {
    "enterprise": ("董事长 总经理 董事长兼总经理 执行董事 副总经理 创始人 总裁 监事 合伙人 财务总监 技术总监",),
    "university": ({"正高级": "教授 博士生导师 研究员 院长 副院长", "副高级": "副教授 副研究员 系主任",
                    "中级": "讲师 助理研究员", "初级": "助教", "无": "行政人员"},),
    "hospital": ({"正高级": "主任医师 科室主任 副院长", "副高级": "副主任医师", "中级": "主治医师",
                  "初级": "住院医师", "无": "医师"},),
    "research": ({"正高级": "研究员 正高级工程师 首席科学家", "副高级": "副研究员 高级工程师 课题组长",
                  "中级": "助理研究员 工程师", "初级": "研究实习员", "无": "科研助理"},),
    "school": ({"正高级": "正高级教师 特级教师 校长", "副高级": "高级教师 副校长", "中级": "一级教师 教研组长",
                "初级": "二级教师", "无": "教师"},),
    "culture": ({"正高级": "研究馆员 高级编辑 一级演员", "副高级": "副研究馆员 主任记者 二级演员",
                 "中级": "馆员 记者 编辑", "初级": "助理馆员", "无": "策划"},),
    "government": ("局长 副局长 副主任 处长 副处长 科长 一级调研员",),
    "law": ("主任 高级合伙人 合伙人 执业律师",),
    "accounting": ("所长 合伙人 注册会计师 注册税务师",),
    "media": ("创始人 主播 内容总监 独立设计师 网络作家 自由撰稿人",),
    "social_org": ("会长 副会长 秘书长 理事长 主任",),
    "foreign_firm": ("总经理 董事 首席代表 财务总监 副总经理",),
    "community": ("主任 副主任 委员 网格员 退休人员",),
    "religious": ("",),
}
TITLE_LINKED = {s for s, (p,) in SECTORS.items() if isinstance(p, dict)}
SECTOR_POSITIONS = {
    s: ({t: tuple(v.split()) for t, v in p.items()} if isinstance(p, dict) else tuple(p.split()))
    for s, (p,) in SECTORS.items()
}
SECTOR_EDUCATION = {
    "university": (45, 35, 18, 2, 0), "hospital": (25, 35, 35, 5, 0), "research": (40, 40, 20, 0, 0),
    "school": (5, 35, 55, 5, 0), "culture": (8, 30, 50, 10, 2), "enterprise": (3, 15, 45, 22, 15),
    "government": (5, 40, 50, 5, 0), "law": (8, 40, 50, 2, 0), "accounting": (3, 25, 60, 12, 0),
    "media": (1, 12, 55, 25, 7), "social_org": (3, 15, 50, 20, 12), "foreign_firm": (5, 30, 50, 12, 3),
    "community": (0, 3, 35, 35, 27), "religious": (2, 10, 25, 30, 33),
}
SECTOR_TITLES = {
    "university": (30, 35, 25, 5, 5), "hospital": (20, 35, 30, 10, 5), "research": (25, 35, 30, 5, 5),
    "school": (5, 35, 40, 15, 5), "culture": (10, 25, 40, 15, 10), "enterprise": (5, 12, 15, 8, 60),
    "government": (2, 10, 40, 10, 38), "law": (10, 20, 30, 10, 30), "accounting": (5, 20, 45, 10, 20),
    "media": (0, 3, 12, 10, 75), "social_org": (3, 8, 20, 10, 59), "foreign_firm": (3, 10, 20, 7, 60),
    "community": (0, 2, 15, 20, 63), "religious": (0, 0, 5, 5, 90),
}


class Profile:
    """How one category looks: size, gender, age, party, sectors, sources, funnel."""

    def __init__(self, weight, male, age, party, sectors, sources, stages=(44, 29, 18, 9),
                 education=None):
        self.weight = weight
        self.male = male
        self.age = age                           # (low, mode, high) in years
        self.party = _table(party)
        self.sectors = _table(sectors)
        self.sources = _table(sources)
        self.stages = _table(zip(("discover", "cultivate", "use", "manage"), stages))
        self.education = _table(zip(EDUCATION, education)) if education else None


_SRC = {"区委统战部推荐": 30, "街道推荐": 12, "自荐": 6, "市委统战部摸排": 10}
PROFILES: dict[str, Profile] = {
    "democratic_party": Profile(16, 0.58, (30, 52, 80), DEMOCRATIC_PARTY_WEIGHTS,
                                {"university": 18, "hospital": 18, "school": 14, "research": 8, "culture": 6,
                                 "enterprise": 16, "government": 8, "law": 6, "accounting": 4, "social_org": 2},
                                {"民主党派推荐": 60, **_SRC}, stages=(30, 32, 24, 14)),
    "non_party": Profile(6, 0.6, (35, 55, 82), {"non_party": 1},
                         {"university": 30, "hospital": 20, "research": 15, "culture": 10, "law": 8,
                          "enterprise": 7, "government": 10},
                         {"高校推荐": 25, "组织部推荐": 15, **_SRC}, stages=(35, 30, 22, 13)),
    "intellectual": Profile(20, 0.55, (28, 46, 78), {"masses": 90, "jiusan": 3, "cdl": 3, "capd": 2, "cpwdp": 2},
                            {"university": 33, "hospital": 25, "research": 15, "school": 17, "culture": 10},
                            {"高校推荐": 35, "知联会推荐": 15, **_SRC}),
    "ethnic_minority": Profile(4, 0.55, (25, 42, 80), {"masses": 60, "cpc": 30, "cdl": 4, "capd": 3, "cndca": 3},
                               {"enterprise": 30, "school": 12, "hospital": 10, "university": 10, "government": 10,
                                "social_org": 8, "community": 10, "culture": 5, "law": 5},
                               {"民宗局推荐": 35, **_SRC}),
    "religious": Profile(1.5, 0.7, (28, 50, 85), {"masses": 1}, {"religious": 1},
                         {"民宗局推荐": 60, "宗教团体推荐": 30, **_SRC}, stages=(40, 30, 20, 10)),
    "private_economy": Profile(22, 0.78, (28, 48, 80), {"masses": 84, "cndca": 10, "capd": 2, "zhigong": 2, "cdl": 2},
                               {"enterprise": 1}, {"工商联推荐": 55, "商会推荐": 15, **_SRC}),
    "new_social_stratum": Profile(12, 0.55, (25, 36, 65), {"masses": 92, "cdl": 2, "cndca": 2, "capd": 2, "zhigong": 2},
                                  {"law": 25, "accounting": 15, "media": 25, "social_org": 20},
                                  {"新联会推荐": 35, "行业协会推荐": 15, "自荐": 10, **_SRC}),
    "overseas_student": Profile(6, 0.56, (25, 38, 70), {"masses": 75, "cpc": 10, "jiusan": 5, "zhigong": 5, "cdl": 5},
                                {"university": 25, "research": 20, "enterprise": 40, "hospital": 10, "foreign_firm": 5},
                                {"欧美同学会推荐": 40, "高校推荐": 20, "人才办推荐": 15, **_SRC},
                                education=(35, 50, 15, 0, 0)),
    "hk_macao": Profile(3, 0.62, (25, 45, 80), {"masses": 95, "other": 5},
                        {"foreign_firm": 60, "enterprise": 15, "university": 10, "social_org": 15},
                        {"港澳办推荐": 50, **_SRC}, stages=(55, 28, 12, 5)),
    "taiwan": Profile(1.5, 0.64, (25, 50, 85), {"masses": 80, "tdsl": 20},
                      {"foreign_firm": 55, "enterprise": 15, "university": 10, "hospital": 5, "social_org": 15},
                      {"台办推荐": 55, "台联推荐": 15, **_SRC}, stages=(55, 28, 12, 5)),
    "overseas_chinese": Profile(5, 0.58, (25, 55, 85), {"masses": 75, "cpc": 10, "zhigong": 15},
                                {"foreign_firm": 25, "enterprise": 30, "school": 10, "social_org": 15,
                                 "community": 10, "hospital": 10},
                                {"侨联推荐": 50, **_SRC}),
    "other": Profile(3, 0.55, (25, 50, 85), {"masses": 70, "cpc": 20, "other": 10},
                     {"community": 35, "enterprise": 25, "school": 10, "government": 10, "social_org": 20},
                     {"街道推荐": 30, **_SRC}, stages=(55, 28, 12, 5)),
}
CATEGORIES = _table((code, p.weight) for code, p in PROFILES.items())

# Tags a category is likely to carry (names from data/tags.csv; missing names are skipped).
CATEGORY_TAGS = {
    "democratic_party": "参政议政 建言献策 调查研究 专家学者 医生 教师 党外干部",
    "non_party": "参政议政 建言献策 专家学者 高层次人才 科研人员 党外干部",
    "intellectual": "专家学者 科研人员 教师 医生 工程师 高层次人才 科技创新 健康科普",
    "ethnic_minority": "少数民族 乡贤 志愿服务 公益慈善 文艺工作者",
    "religious": "宗教界人士 公益慈善 志愿服务 书画艺术 对外交流",
    "private_economy": "民营企业家 新生代企业家 优秀企业家 数字经济 电子商务 公益慈善 乡村振兴 优秀中国特色社会主义事业建设者",
    "new_social_stratum": "新的社会阶层人士 律师 会计师 新媒体从业者 网络人士 社会组织负责人 中介组织从业人员 文化创意 法律服务",
    "overseas_student": "海归 留学人员 高层次人才 科技创新 生物医药 数字经济",
    "hk_macao": "港澳青年 对外交流 外资企业管理人员 金融从业者",
    "taiwan": "台胞 台商 对外交流",
    "overseas_chinese": "侨领 归侨侨眷 对外交流 公益慈善",
    "other": "乡贤 志愿服务 道德模范 最美杭州人 非遗传承人",
}
TAG_COUNTS = _table({0: 8, 1: 12, 2: 18, 3: 22, 4: 18, 5: 12, 6: 10})

STAGE_NOTES = {
    "discover": ("纳入党外代表人士信息库", "摸排发现", "单位推荐入库"),
    "cultivate": ("列入重点培养对象", "参加社会主义学院培训", "安排挂职锻炼", "列入后备人才队伍"),
    "use": ("推荐为人大代表、政协委员人选", "安排社会职务", "担任特约人员"),
    "manage": ("纳入履职考核管理", "建立联系交友制度", "开展年度履职评价"),
}
STAGE_GAPS = {"cultivate": (60, 720), "use": (90, 1000), "manage": (60, 700)}

# Appointments: where they are held and how their 5-year terms fall.
LEVELS = _table({"全国": 1, "省级": 6, "市级": 33, "区县级": 60})
# First day of a term cycle per level (national/provincial 2023, city 2022, district 2021/22).
LEVEL_CYCLE = {"全国": date(2023, 3, 5), "省级": date(2023, 1, 13), "市级": date(2022, 2, 20),
               "区县级": date(2021, 12, 28)}
BODIES_BY_CATEGORY = {
    "democratic_party": {"cppcc": 55, "npc": 15, "association": 10, "other": 20},
    "non_party": {"cppcc": 55, "npc": 15, "association": 10, "other": 20},
    "intellectual": {"cppcc": 35, "npc": 15, "association": 30, "other": 20},
    "private_economy": {"cppcc": 30, "npc": 25, "association": 40, "other": 5},
    "religious": {"cppcc": 60, "npc": 10, "association": 30},
}
DEFAULT_BODIES = {"cppcc": 35, "npc": 15, "association": 35, "other": 15}
ASSOCIATIONS = {
    "private_economy": ("工商联执委", "工商联常委", "工商联副主席", "总商会副会长"),
    "intellectual": ("知联会理事", "知联会常务理事", "知联会副会长"),
    "new_social_stratum": ("新联会理事", "新联会常务理事", "新联会副会长"),
    "overseas_student": ("欧美同学会理事", "欧美同学会常务理事"),
    "overseas_chinese": ("侨联委员", "侨联常委", "侨联副主席"),
    "taiwan": ("台联理事", "台联副会长"),
    "hk_macao": ("港澳青年联合会理事", "港澳联谊会副会长"),
    "religious": ("佛教协会理事", "基督教两会委员", "伊斯兰教协会理事", "道教协会理事"),
    "ethnic_minority": ("少数民族联谊会理事", "少数民族联谊会副会长"),
}
DEFAULT_ASSOCIATIONS = ("青联委员", "知联会理事", "新联会理事", "工商联执委", "妇联执委")
OTHER_POSTS = ("特约监督员", "特约检察员", "人民陪审员", "特约审计员", "特邀监察员", "政风行风监督员")

ACTIVITY_KINDS = _table({"training": 30, "lecture": 25, "onsite": 20, "survey": 15, "other": 10})
ACTIVITY_GROUPS = ("党外干部", "非公有制经济人士", "新的社会阶层人士", "党外知识分子", "民主党派骨干",
                   "少数民族代表人士", "宗教界代表人士", "新生代企业家", "留学归国人员", "港澳台青年")
ACTIVITY_THEMES = ("政治理论", "履职能力提升", "数字经济", "共同富裕", "统一战线理论政策", "参政议政能力",
                   "营商环境", "科技创新", "乡村振兴", "基层社会治理")
ONSITE_PLACES = ("未来科技城", "滨江物联网小镇", "梦想小镇", "良渚古城遗址", "千岛湖", "钱塘区医药港",
                 "城西科创大走廊", "桐庐富春江", "淳安下姜村", "建德航空小镇", "萧山机器人小镇", "云栖小镇",
                 "中国（杭州）跨境电商综试区", "杭州亚运场馆")
SURVEY_ISSUES = ("民营经济高质量发展", "营商环境优化", "新就业形态劳动者权益保障", "宗教活动场所安全管理",
                 "少数民族流动人口服务", "侨资企业发展", "人才引进政策落实", "乡村振兴", "基层社会治理",
                 "亚运场馆赛后利用", "养老服务体系建设", "数字化改革")
OTHER_EVENTS = ("新春茶话会", "中秋联谊会", "同心圆读书会", "“同心·共富”公益行", "党外人士联谊交友活动",
                "迎新春书画笔会", "国庆座谈会")
CITY_ORGANIZERS = _table({"市委统战部": 25, "市工商联": 10, "民盟杭州市委会": 3, "民建杭州市委会": 3,
                          "九三学社杭州市委会": 2, "民进杭州市委会": 2, "市侨联": 5, "市民宗局": 5,
                          "市知联会": 4, "市新联会": 4, "杭州市欧美同学会": 2, "市社会主义学院": 5})


# ---------------------------------------------------------------------------
# ID numbers (GB 11643) and phones, unique by construction
# ---------------------------------------------------------------------------

def id_check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS)) % 11]


def _weighted(digits: str, position: int) -> int:
    return sum(int(c) * w for c, w in zip(digits, ID_WEIGHTS[position:]))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:                       # 29 February
        return day.replace(year=day.year - years, day=28)


class IdNumbers:
    """Allocates unique 18-character ID numbers.

    The sequence part comes from a counter per (district, birth day, gender) that
    starts past any number already in the store: two persons can never get the
    same number, and the counter table is fixed-size (13 × ~22,000 days × 2), not
    proportional to the number of persons. Each key starts at a different offset
    so sequence codes look spread rather than all 001, 003, ….
    """

    SLOTS = 499                              # male 001..997 (odd), female 002..998 (even)

    def __init__(self, districts: Sequence[str], first_birth: date, last_birth: date):
        self.districts = tuple(districts)
        self.index = {code: i for i, code in enumerate(self.districts)}
        self.first = first_birth.toordinal()
        self.span = last_birth.toordinal() - self.first + 1
        self.used = array("H", bytes(2 * len(self.districts) * self.span * 2))
        # Check-digit sums and date text per district and day: fixed-size caches.
        self.area_sums = [_weighted(code, 0) for code in self.districts]
        self.day_text: dict[int, tuple[str, int]] = {}

    def _key(self, d: int, day: int, male: bool) -> int:
        return (d * self.span + day) * 2 + (1 if male else 0)

    def _slot(self, key: int, used: int) -> int:
        return (key * 7919 + 13 + used) % self.SLOTS

    def reserve_existing(self, conn: Connection) -> None:
        """Move every counter past the ID numbers already stored (read in a stream, nothing kept)."""
        stmt = select(person.c.id_number).where(person.c.id_number.is_not(None))
        for (number,) in conn.execute(stmt.execution_options(yield_per=20_000)):
            if not number or len(number) != 18 or not number[:17].isdigit():
                continue
            d = self.index.get(number[:6])
            try:
                day = date(int(number[6:10]), int(number[10:12]), int(number[12:14])).toordinal() - self.first
            except ValueError:
                continue
            if d is None or not 0 <= day < self.span:
                continue
            seq = int(number[14:17])
            male = seq % 2 == 1
            slot = (seq - 1) // 2 if male else (seq - 2) // 2
            key = self._key(d, day, male)
            position = (slot - self._slot(key, 0)) % self.SLOTS
            if position + 1 > self.used[key]:
                self.used[key] = position + 1

    def allocate(self, district: str, birth: date, male: bool) -> tuple[str, date]:
        """A fresh number and the birth date it encodes (moved a day when that day is full)."""
        d = self.index[district]
        day = birth.toordinal() - self.first
        while True:
            key = self._key(d, day, male)
            if self.used[key] < self.SLOTS:
                break
            # Practically never: 499 persons of one gender born on one day in one district.
            day = (day + 1) % self.span
        slot = self._slot(key, self.used[key])
        self.used[key] += 1
        born = date.fromordinal(self.first + day)
        cached = self.day_text.get(day)
        if cached is None:
            text_value = born.strftime("%Y%m%d")
            cached = self.day_text[day] = (text_value, _weighted(text_value, 6))
        seq = 2 * slot + (1 if male else 2)
        seq_text = f"{seq:03d}"
        total = self.area_sums[d] + cached[1] + _weighted(seq_text, 14)
        return f"{district}{cached[0]}{seq_text}{ID_CHECK[total % 11]}", born


def phone_for(person_id: int, prefix: str, seed: int) -> str:
    """A mobile number unique per person id: the last 8 digits are a bijection of the id.

    A three-round Feistel network on two 4-digit halves (addition mod 10**4) is a
    permutation of 0..10**8-1, so ids below 10**8 never share a suffix, and
    consecutive ids do not get visibly consecutive numbers.
    """
    table = _phone_round_table(seed)
    left, right = divmod(person_id % 100_000_000, 10_000)
    for shift in (0, 3_331, 6_661):
        left, right = right, (left + table[(right + shift) % 10_000]) % 10_000
    return f"{prefix}{left:04d}{right:04d}"


@lru_cache(maxsize=4)
def _phone_round_table(seed: int) -> list[int]:
    """The Feistel round function: a fixed shuffle of 0..9999 per seed (non-linear)."""
    values = list(range(10_000))
    random.Random(f"phones:{seed}").shuffle(values)
    return values


# ---------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------

def load_tags(data_dir: Path = DATA_DIR) -> list[str]:
    path = data_dir / "tags.csv"
    return [r["name"] for r in read_csv_rows(path) if r.get("name")] if path.exists() else []


def _ensure_tags(conn: Connection, names: list[str]) -> tuple[dict[str, int], int]:
    existing = dict(conn.execute(select(tag.c.name, tag.c.id)).all())
    missing = [n for n in names if n not in existing]
    if missing:
        conn.execute(tag.insert(), [{"name": n} for n in missing])
        existing = dict(conn.execute(select(tag.c.name, tag.c.id)).all())
    return existing, len(missing)


COLUMNS = {
    "person": ("id", "name", "gender", "ethnicity", "birth_date", "id_number", "phone", "party", "category_code",
               "district_code", "street", "organization", "position", "education", "title", "stage", "source",
               "created_at", "updated_at", "updated_via"),
    "stage_event": ("person_id", "stage", "entered_at", "note"),
    "appointment": ("person_id", "body", "title", "level", "term_start", "term_end"),
    "person_tag": ("person_id", "tag_id"),
    "activity": ("id", "title", "kind", "organizer", "district_code", "starts_at", "ends_at", "capacity", "online"),
    "participation": ("activity_id", "person_id", "status", "registered_at", "checked_in_at"),
}


DAY = 86_400


class _Clock:
    """Moments as integer seconds (ordinal day × 86400 + second of day), written as text.

    Building millions of datetime objects and formatting them was a tenth of the
    run; integers compare as fast and format from two small caches. The text is
    SQLAlchemy's SQLite storage format ("%Y-%m-%d %H:%M:%S.%f", read back as
    datetimes by the tests), which PostgreSQL casts to timestamp as it stands.
    """

    def __init__(self):
        self._days: dict[int, str] = {}
        self._tod = [f" {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000000" for s in range(DAY)]

    def day(self, ordinal: int) -> str:
        text_value = self._days.get(ordinal)
        if text_value is None:
            text_value = self._days[ordinal] = date.fromordinal(ordinal).isoformat()
        return text_value

    def ts(self, moment: int) -> str:
        return self.day(moment // DAY) + self._tod[moment % DAY]

    def date(self, value: date) -> str:
        return self.day(value.toordinal())


class _Writer:
    """Bulk inserts of plain tuples, CHUNK_ROWS at a time, in the demo's transaction.

    SQLite: the driver's executemany. Measured at 20k persons, SQLAlchemy's per-row
    parameter processing for `conn.execute(table.insert(), dicts)` cost as much as
    SQLite's own executemany, so values are prepared once, as text, as they are made.
    PostgreSQL: COPY through psycopg on the same connection (several times faster
    than a pipelined executemany at 20k persons).
    """

    def __init__(self, conn: Connection):
        self.conn = conn
        sqlite = conn.dialect.name == "sqlite"
        clock = _Clock()
        self.ts, self.day = clock.ts, clock.date
        self.boolean = int if sqlite else bool
        quote = conn.dialect.identifier_preparer.quote
        mark = "?" if sqlite else "%s"
        self.copy = not sqlite and conn.dialect.driver == "psycopg"
        self.sql = {
            name: f"INSERT INTO {quote(name)} ({', '.join(quote(c) for c in cols)}) "
                  f"VALUES ({', '.join([mark] * len(cols))})"
            for name, cols in COLUMNS.items()
        }
        self.copy_sql = {
            name: f"COPY {quote(name)} ({', '.join(quote(c) for c in cols)}) FROM STDIN"
            for name, cols in COLUMNS.items()
        }

    def insert(self, name: str, rows: list[tuple]) -> None:
        if self.copy:
            with self.conn.connection.driver_connection.cursor() as cursor:
                with cursor.copy(self.copy_sql[name]) as copy:
                    for row in rows:
                        copy.write_row(row)
            return
        for start in range(0, len(rows), CHUNK_ROWS):
            self.conn.exec_driver_sql(self.sql[name], rows[start:start + CHUNK_ROWS])


def _moment(rng: random.Random, ordinal: int) -> int:
    """A working-hours moment (8:00–18:00) on the day `ordinal`, in seconds."""
    return ordinal * DAY + 28_800 + int(rng.random() * 36_000)


class _City:
    """Reference data the generator draws from."""

    def __init__(self, data_dir: Path = DATA_DIR):
        rows = read_csv_rows(data_dir / "regions.csv")
        self.districts = [r for r in rows if r["level"] == "district"]
        self.codes = [r["code"] for r in self.districts]
        self.names = {r["code"]: r["name_zh"] for r in self.districts}
        self.streets = {code: [] for code in self.codes}
        for r in rows:
            if r["level"] == "street" and r["parent_code"] in self.streets:
                self.streets[r["parent_code"]].append(r["name_zh"])
        self.weights = _table((i, DISTRICT_WEIGHTS.get(code, 5)) for i, code in enumerate(self.codes))
        self.parties = {r["code"] for r in read_csv_rows(data_dir / "parties.csv")}


class _PersonMaker:
    def __init__(self, rng: random.Random, city: _City, tag_ids: dict[str, int], today: date, seed: int,
                 writer: _Writer):
        self.rng, self.city, self.today, self.seed = rng, city, today, seed
        self.ts, self.day = writer.ts, writer.day
        self.now = today.toordinal() * DAY
        self.first_birth = _years_before(today, MAX_AGE + 1) + timedelta(days=1)
        self.last_birth = _years_before(today, MIN_AGE)
        self.ids = IdNumbers(city.codes, self.first_birth, self.last_birth)
        self.tag_ids = tag_ids
        names = [n for n in tag_ids]
        # Background tags: a Zipf-like popularity so "top tags" is not flat.
        order = sorted(names, key=lambda n: random.Random(f"{seed}:{n}").random())
        self.any_tags = _table((tag_ids[n], 1 / (1 + i) ** 0.8) for i, n in enumerate(order))
        self.category_tags = {
            cat: tuple(tag_ids[n] for n in words.split() if n in tag_ids) for cat, words in CATEGORY_TAGS.items()
        }
        self.rule_tags = {n: tag_ids.get(n) for n in ("青年", "女性", "少数民族", "人大代表", "政协委员", "特约人员")}
        self.education = {s: _table(zip(EDUCATION, w)) for s, w in SECTOR_EDUCATION.items()}
        self.titles = {s: _table(zip(TITLES, w)) for s, w in SECTOR_TITLES.items()}
        self.bodies = {c: _table(BODIES_BY_CATEGORY.get(c, DEFAULT_BODIES)) for c in PROFILES}

    # -- pieces -------------------------------------------------------------
    def name(self, ethnicity: str, male: bool) -> str:
        rng = self.rng
        if ethnicity == "维吾尔族":
            return f"{_choice(rng, UYGHUR[0 if male else 1])}·{_choice(rng, UYGHUR[2])}"
        if ethnicity == "藏族":
            return _choice(rng, TIBETAN[0]) + _choice(rng, TIBETAN[0 if male else 1])
        if ethnicity == "蒙古族" and rng.random() < 0.5:
            return _choice(rng, MONGOL[0 if male else 1])
        surnames = MINORITY_SURNAMES.get(ethnicity, SURNAMES)
        pool = GIVEN_M if male else GIVEN_F
        first = _choice(rng, GIVEN_ANY) if rng.random() < 0.25 else _choice(rng, pool)
        if rng.random() < 0.22:
            return _pick(rng, surnames) + first
        second = _choice(rng, pool)
        if second == first:
            second = pool[(pool.index(second) + 1) % len(pool)]
        return _pick(rng, surnames) + first + second

    def organisation(self, sector: str, category: str, district: str, street: str | None, title: str,
                     age: int) -> tuple[str, str]:
        rng = self.rng
        dname = self.city.names[district]
        brand = _choice(rng, BRAND) + _choice(rng, BRAND)
        fill = {"b": brand, "c": _choice(rng, BRAND), "d": dname, "s": street or dname}
        positions = SECTOR_POSITIONS[sector]
        if sector == "enterprise":
            where = rng.random()
            prefix = "杭州" if where < 0.6 else "浙江" if where < 0.85 else dname[:-1]
            org = prefix + brand + _pick(rng, INDUSTRY) + _pick(rng, COMPANY_SUFFIX)
        elif sector == "university":
            org = _choice(rng, UNIVERSITIES)
        elif sector == "hospital":
            org = _choice(rng, HOSPITALS).format(**fill)
        elif sector == "research":
            org = _choice(rng, INSTITUTES)
        elif sector == "school":
            org = _choice(rng, SCHOOLS).format(**fill)
        elif sector == "culture":
            org = _choice(rng, CULTURE)
        elif sector == "government":
            org = ("杭州市" if rng.random() < 0.5 else dname) + _choice(rng, BUREAUS)
        elif sector == "law":
            org = _choice(rng, LAW_ORGS).format(**fill)
        elif sector == "accounting":
            org = _choice(rng, ACCOUNTING_ORGS).format(**fill)
        elif sector == "media":
            org = _choice(rng, MEDIA_ORGS).format(**fill)
        elif sector == "social_org":
            pool = SOCIAL_ORGS.get(category) if rng.random() < 0.7 else None
            org = _choice(rng, pool or SOCIAL_ORGS["default"]).format(**fill)
        elif sector == "foreign_firm":
            org = _choice(rng, FOREIGN_FIRM).format(**fill)
        elif sector == "community":
            org = _choice(rng, COMMUNITY_ORGS).format(**fill)
        else:                                 # religious
            org, posts = _choice(rng, RELIGIOUS_SITES)
            return org, _choice(rng, posts)
        if isinstance(positions, dict):
            position = _choice(rng, positions[title])
            if sector == "university":
                position = _choice(rng, COLLEGES) + position
            elif sector == "hospital":
                position = _choice(rng, DEPARTMENTS) + position
        else:
            position = _choice(rng, positions)
        if age >= 63 and sector not in ("enterprise", "religious") and rng.random() < 0.6:
            position += "（已退休）"
        return org, position

    def title_for(self, sector: str, age: int) -> str:
        title = _pick(self.rng, self.titles[sector])
        rank = TITLE_RANK[title]
        if title != "无":
            if age < 30:
                rank = max(rank, 2 if self.rng.random() < 0.4 else 3)
            elif age < 36:
                rank = max(rank, 1 if self.rng.random() < 0.3 else 2)
            elif age < 42:
                rank = max(rank, 1)
        return TITLES[rank]

    def history(self, stage: str) -> list[tuple[str, int]]:
        """Stage events from discovery to `stage`, strictly increasing and before today."""
        rng = self.rng
        order = ("discover", "cultivate", "use", "manage")
        reached = order[: order.index(stage) + 1]
        gaps = [_rint(rng, *STAGE_GAPS[s]) for s in reached[1:]]
        needed = sum(gaps)
        room = max(HISTORY_DAYS - needed, 30)
        # More people were found recently: the age of a discovery is skewed towards today.
        ago = needed + 1 + int(room * rng.random() ** 1.6)
        day = self.today.toordinal() - ago
        events = [("discover", _moment(rng, day))]
        for s, gap in zip(reached[1:], gaps):
            day += gap
            events.append((s, _moment(rng, day)))
        return events

    def appointments(self, pid: int, category: str, district: str, stage: str) -> list[dict]:
        rng = self.rng
        if stage == "use":
            n = 1 if rng.random() < 0.7 else 2 if rng.random() < 0.83 else 3
        else:
            n = 1 if rng.random() < 0.4 else 2 if rng.random() < 0.66 else 3
        out = []
        seen = set()
        for k in range(n):
            body = _pick(rng, self.bodies[category])
            level = _pick(rng, LEVELS)
            if (body, level) in seen:
                continue
            seen.add((body, level))
            where = {"全国": "全国", "省级": "浙江省", "市级": "杭州市", "区县级": self.city.names[district]}[level]
            if body == "npc":
                title = where + ("人大常委会委员" if rng.random() < 0.12 else "人大代表")
                cycle = LEVEL_CYCLE[level]
            elif body == "cppcc":
                title = where + ("政协常委" if rng.random() < 0.15 else "政协委员")
                cycle = LEVEL_CYCLE[level]
            elif body == "association":
                where = "杭州市" if level in ("全国", "省级") else where
                title = where + _choice(rng, ASSOCIATIONS.get(category, DEFAULT_ASSOCIATIONS))
                # Associations elect on their own calendars: spread over the cycle.
                cycle = LEVEL_CYCLE["市级"] + timedelta(days=_rint(rng, 0, 5 * 365))
            else:
                where = "杭州市" if level in ("全国", "省级") else where
                title = where + _choice(rng, OTHER_POSTS)
                cycle = LEVEL_CYCLE["区县级"] + timedelta(days=_rint(rng, 0, 5 * 365))
                level = "市级" if where == "杭州市" else "区县级"
            start = cycle
            while start > self.today:
                start = _years_before(start, 5)
            while _years_before(start, -5) <= self.today:
                start = _years_before(start, -5)
            terms = [start]
            if stage == "manage" and rng.random() < 0.4:
                terms.insert(0, _years_before(start, 5))     # a previous term, ended
            for first in terms:
                joined = first if rng.random() < 0.9 else first + timedelta(days=_rint(rng, 60, 700))
                out.append((pid, body, title, level, min(joined, self.today), _years_before(first, -5)))
        return out

    def tags(self, pid: int, category: str, male: bool, age: int, minority: bool, bodies: set[str]) -> list[dict]:
        rng = self.rng
        k = _pick(rng, TAG_COUNTS)
        if k == 0 or not self.tag_ids:
            return []
        chosen: list[int] = []
        rules = self.rule_tags
        for name, applies, p in (("人大代表", "npc" in bodies, 0.9), ("政协委员", "cppcc" in bodies, 0.9),
                                 ("特约人员", "other" in bodies, 0.7), ("少数民族", minority, 0.7),
                                 ("青年", age < 40, 0.5), ("女性", not male, 0.3)):
            if applies and rules[name] and rng.random() < p:
                chosen.append(rules[name])
        own = self.category_tags.get(category, ())
        tries = 0
        while len(chosen) < k and tries < 20:
            tries += 1
            t = _choice(rng, own) if own and rng.random() < 0.6 else _pick(rng, self.any_tags)
            if t not in chosen:
                chosen.append(t)
        return [(pid, t) for t in chosen[:k]]

    # -- one person -----------------------------------------------------------
    def make(self, pid: int, out: dict[str, list]) -> tuple[int, int, int]:
        """Append the person's rows to `out`; return (district index, stage index, discovery day)."""
        rng, city = self.rng, self.city
        category = _pick(rng, CATEGORIES)
        prof = PROFILES[category]
        male = rng.random() < prof.male
        low, mode, high = prof.age
        age_years = rng.triangular(low, high, mode)
        birth = self.today - timedelta(days=int(age_years * 365.2425))
        birth = min(max(birth, self.first_birth), self.last_birth)
        d_idx = _pick(rng, city.weights)
        district = city.codes[d_idx]
        number, birth = self.ids.allocate(district, birth, male)
        age = (self.today - birth).days // 365

        if category == "ethnic_minority":
            ethnicity = _pick(rng, MINORITIES)
        elif rng.random() < 0.012:
            ethnicity = _pick(rng, MINORITIES)
        else:
            ethnicity = "汉族"
        party = _pick(rng, prof.party)
        streets = city.streets[district]
        street = _choice(rng, streets) if streets else None
        sector = _pick(rng, prof.sectors)
        title = self.title_for(sector, age)
        organization, position = self.organisation(sector, category, district, street, title, age)
        education = _pick(rng, prof.education or self.education[sector])
        if sector not in TITLE_LINKED and education == "博士研究生" and title == "无" and rng.random() < 0.5:
            title = "副高级"
        stage = _pick(rng, prof.stages)
        events = self.history(stage)
        created = events[0][1]
        last = events[-1][1]

        # Freshness: a real share has not been touched for more than a year.
        r = rng.random()
        ago = _rint(rng, 0, 180) if r < 0.42 else _rint(rng, 181, 365) if r < 0.66 else _rint(rng, 366, 1800)
        updated = max(last, _moment(rng, self.today.toordinal() - ago - 1))
        stale = self.now - updated > 365 * DAY
        v = rng.random()
        if stale:
            via = "import" if v < 0.55 else "staff" if v < 0.9 else "sync" if v < 0.95 else "self"
        else:
            via = "staff" if v < 0.35 else "import" if v < 0.65 else "self" if v < 0.8 else "sync"

        # Gaps in the record, more of them in stale ones.
        hole = 2.0 if stale else 1.0
        phone = phone_for(pid, _choice(rng, PHONE_PREFIXES), self.seed)
        ts, day = self.ts, self.day
        out["person"].append((                               # in PERSON_COLUMNS order
            pid, self.name(ethnicity, male), "M" if male else "F", ethnicity, day(birth),
            None if rng.random() < 0.01 * hole else number,
            None if rng.random() < 0.03 * hole else phone,
            party, category, district,
            None if rng.random() < 0.04 * hole else street,
            None if rng.random() < 0.015 * hole else organization,
            None if rng.random() < 0.02 * hole else position,
            None if rng.random() < 0.03 * hole else education,
            None if rng.random() < 0.04 * hole else title,
            stage, _pick(rng, prof.sources), ts(created), ts(updated), via,
        ))
        for s, at in events:
            out["stage_event"].append((pid, s, ts(at), _choice(rng, STAGE_NOTES[s])))
        bodies: set[str] = set()
        if stage in ("use", "manage"):
            appts = self.appointments(pid, category, district, stage)
            bodies = {a[1] for a in appts if a[5] > self.today}
            out["appointment"].extend((a[0], a[1], a[2], a[3], day(a[4]), day(a[5])) for a in appts)
        out["person_tag"].extend(self.tags(pid, category, male, age, ethnicity != "汉族", bodies))
        return d_idx, ("discover", "cultivate", "use", "manage").index(stage), created // DAY


class _ActivityMaker:
    """Activities over the last three years (and a few upcoming), with participants drawn from the city."""

    def __init__(self, rng, city: _City, today: date, first_pid: int, district_of: bytearray,
                 stage_of: bytearray, created_on: array, writer: _Writer):
        self.rng, self.city, self.today = rng, city, today
        self.ts, self.boolean = writer.ts, writer.boolean
        self.first_pid = first_pid
        self.created_on = created_on
        self.stage_of = stage_of
        n_d = len(city.codes)
        # Pools of person offsets: by district, and the engaged (cultivated or later) among them.
        self.local = [array("I") for _ in range(n_d)]
        self.engaged = [array("I") for _ in range(n_d)]
        self.all_engaged = array("I")
        for i, d in enumerate(district_of):
            self.local[d].append(i)
            if stage_of[i] > 0:
                self.engaged[d].append(i)
                self.all_engaged.append(i)
        self.count = len(district_of)

    def title(self, kind: str, year: int) -> str:
        rng = self.rng
        if kind == "training":
            return f"{year}年{_choice(rng, ACTIVITY_GROUPS)}{_choice(rng, ACTIVITY_THEMES)}培训班"
        if kind == "lecture":
            return f"“{_choice(rng, ACTIVITY_THEMES)}”同心大讲堂第{_rint(rng, 1, 60)}期"
        if kind == "onsite":
            return f"走进{_choice(rng, ONSITE_PLACES)}考察活动"
        if kind == "survey":
            return f"关于{_choice(rng, SURVEY_ISSUES)}的专题调研座谈会"
        return f"{year}年{_choice(rng, OTHER_EVENTS)}"

    def make(self, aid: int, out: dict[str, list]) -> None:
        rng, today = self.rng, self.today
        kind = _pick(rng, ACTIVITY_KINDS)
        upcoming = rng.random() < UPCOMING_SHARE
        if upcoming:
            day = today + timedelta(days=_rint(rng, 1, UPCOMING_DAYS))
        else:
            span = ACTIVITY_YEARS * 365
            # Busier lately: part of the activities is skewed towards today.
            back = _rint(rng, 1, span) if rng.random() < 0.6 else 1 + int(span * rng.random() ** 1.5)
            day = today - timedelta(days=back)
        if day.weekday() >= 5 and rng.random() < 0.8:
            day -= timedelta(days=day.weekday() - 4)          # weekend → Friday
            if day >= today and not upcoming:
                day -= timedelta(days=7)
            if upcoming and day <= today:
                day += timedelta(days=7)
        start = day.toordinal() * DAY + _choice(rng, (9, 9, 10, 14, 14, 15)) * 3600 + _choice(rng, (0, 0, 1800))
        if kind == "training":
            end = start + _rint(rng, 0, 4) * DAY + 8 * 3600
        elif kind == "onsite":
            end = start + _rint(rng, 3, 8) * 3600
        else:
            end = start + _choice(rng, (2, 2, 3)) * 3600 + _choice(rng, (0, 1800))
        d_idx = _pick(rng, self.city.weights)
        city_level = rng.random() < 0.45
        organizer = _pick(rng, CITY_ORGANIZERS) if city_level else self.city.names[self.city.codes[d_idx]] + "委统战部"
        wanted = round(rng.triangular(5, 60, 58))
        online = kind in ("lecture", "training") and rng.random() < 0.2
        chosen = self._participants(d_idx, wanted, start // DAY, city_level)
        capacity = max(len(chosen), 10, 10 * round(len(chosen) * rng.uniform(1.0, 1.6) / 10))
        ts = self.ts
        out["activity"].append((aid, self.title(kind, day.year), kind, organizer, self.city.codes[d_idx],
                                ts(start), ts(end), capacity, self.boolean(online)))
        now = today.toordinal() * DAY
        ts, rnd, stage_of, first_pid = self.ts, rng.random, self.stage_of, self.first_pid
        rows = out["participation"]
        for offset in chosen:
            # Registration opens up to three weeks ahead and closes the day before.
            registered = start - DAY - int(rnd() * 19 * DAY)
            if registered >= now:
                registered = now - 3600 - int(rnd() * 2 * DAY)
            checked_in = None
            r = rnd()
            if upcoming:
                status = "approved" if r < 0.6 else "registered"
            elif r < 0.06:
                status = "rejected"
            else:
                keen = 0.9 if stage_of[offset] >= 2 else 0.78
                if rnd() < keen:
                    status = "checked_in"
                    checked_in = start - 1800 + int(rnd() * 2700)
                else:
                    status = "absent"
            rows.append((aid, first_pid + offset, status, ts(registered),
                         None if checked_in is None else ts(checked_in)))

    def _participants(self, d_idx: int, wanted: int, start_ord: int, city_level: bool) -> list[int]:
        rng, created_on = self.rng, self.created_on
        pools = ((self.engaged[d_idx], 0.45), (self.local[d_idx], 0.25), (self.all_engaged, 0.2))
        if city_level:
            pools = ((self.all_engaged, 0.6), (self.engaged[d_idx], 0.2), (self.local[d_idx], 0.1))
        # Known to the department before registration opened (and, for upcoming
        # activities, before the registrations already taken).
        latest = min(start_ord - 21, self.today.toordinal() - 3)
        chosen: dict[int, None] = {}
        for _ in range(wanted * 4):
            if len(chosen) >= wanted:
                break
            r = rng.random()
            pool = None
            for candidate, p in pools:
                if r < p:
                    pool = candidate
                    break
                r -= p
            if not pool:
                offset = int(rng.random() * self.count)
            else:
                offset = pool[int(rng.random() * len(pool))]
            if offset in chosen or created_on[offset] > latest:
                continue
            chosen[offset] = None
        return list(chosen)


BULK_TABLES = (person, stage_event, appointment, person_tag, activity, participation)


def _drop_secondary_indexes(conn: Connection) -> list:
    """Drop the non-unique indexes of the tables the demo fills; the caller recreates them.

    Measured at 100k persons on SQLite: keeping ~20 secondary indexes up to date
    row by row (random keys: names, phones, person ids) took two thirds of the run;
    building them once at the end is a sort. Only indexes declared in store/schema.py
    and present in the database are touched, inside the demo's transaction.
    """
    present = set()
    inspector = inspect(conn)
    for table in BULK_TABLES:
        present.update(ix["name"] for ix in inspector.get_indexes(table.name))
    dropped = []
    for table in BULK_TABLES:
        for index in sorted(table.indexes, key=lambda ix: ix.name):
            if not index.unique and index.name in present:
                index.drop(conn)
                dropped.append(index)
    return dropped


# The representatives' responses: shares of the persons, and how long ago (days) they span.
CONFIRM_SHARE, CORRECTION_SHARE, SUGGESTION_SHARE = 0.35, 0.04, 0.06
SUGGESTION_TOPICS = ("交通出行", "教育", "医疗卫生", "养老服务", "营商环境", "生态环境", "社区治理", "文化旅游", "科技创新",
                     "乡村振兴")
SUGGESTION_OUTCOMES = _table({"adopted": 35, "forwarded": 35, "declined": 30})
REPLIES = {"adopted": "已采纳，纳入年度工作安排。", "forwarded": "已转交相关部门办理。", "declined": "经研究暂不采纳，感谢建言。"}


def _reps_demo(conn: Connection, seed: int, today: date, first_pid: int, persons: int) -> tuple[int, int]:
    """Requests and suggestions from some of the persons just made; a random stream of its own, so
    every other table is what it was before (the same seed makes the same city)."""
    from datetime import datetime, time as day_time

    rng = random.Random(f"reps:{seed}")

    def moment(days_ago: int) -> datetime:
        return datetime.combine(today - timedelta(days=days_ago), day_time(8)) + timedelta(minutes=_rint(rng, 0, 720))

    requests, fields, suggestions, changing = [], [], [], []
    rid = _max_id(conn, rep_request)
    for pid in range(first_pid, first_pid + persons):
        if rng.random() < CONFIRM_SHARE:
            at = moment(_rint(rng, 0, 540))
            requests.append(dict(id=(rid := rid + 1), person_id=pid, kind="confirm", submitted_at=at, status="done",
                                 closed_at=at))
        if rng.random() < CORRECTION_SHARE:
            age = _rint(rng, 0, 240)
            waiting = age < 45 or rng.random() < 0.1
            at = moment(age)
            requests.append(dict(id=(rid := rid + 1), person_id=pid, kind="change", submitted_at=at,
                                 status="pending" if waiting else "done", closed_at=None if waiting else moment(age // 2)))
            changing.append((rid, pid, waiting))
        if rng.random() < SUGGESTION_SHARE:
            age = _rint(rng, 0, 540)
            status = ("received" if age < 30 else _choice(rng, ("received", "reviewing")) if age < 90
                      else _pick(rng, SUGGESTION_OUTCOMES))
            topic = _choice(rng, SUGGESTION_TOPICS)
            suggestions.append(dict(person_id=pid, kind="suggestion" if rng.random() < 0.7 else "opinion",
                                    title=f"关于改进{topic}工作的建议", body=f"建议进一步改进{topic}相关工作。", topic=topic,
                                    status=status, reply=REPLIES.get(status), submitted_at=moment(age),
                                    updated_at=moment(age // 2)))
    organizations = dict(conn.execute(select(person.c.id, person.c.organization)
                                      .where(person.c.id.in_([p for _, p, _ in changing]))).all()) if changing else {}
    for request_id, pid, waiting in changing:
        old = organizations.get(pid)
        fields.append(dict(request_id=request_id, field="organization", old_value=old,
                           new_value=f"{old or ''}（新）"[-200:], status="pending" if waiting else "rejected",
                           reason=None if waiting else "请附单位出具的证明后再提交。"))
    for table, rows in ((rep_request, requests), (rep_request_field, fields), (rep_suggestion, suggestions)):
        for start in range(0, len(rows), 5000):
            conn.execute(table.insert(), rows[start:start + 5000])
    return len(requests), len(suggestions)


def _max_id(conn: Connection, table) -> int:
    return conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()


def generate_demo(engine: Engine, persons: int = 20_000, seed: int = 42, today: date | None = None,
                  data_dir: Path = DATA_DIR) -> dict[str, int]:
    """Add `persons` synthetic persons with their histories, appointments, tags and activities.

    Deterministic for (seed, today, the store's current max ids). Runs in one
    transaction: either the whole demo is there or none of it.
    """
    if persons < 0:
        raise ValueError("persons must be >= 0")
    today = today or clock.today()
    rng = random.Random(seed)
    city = _City(data_dir)
    counts = {"persons": 0, "person_tags": 0, "stage_events": 0, "appointments": 0,
              "activities": 0, "participations": 0, "tags_added": 0,
              "discover": 0, "cultivate": 0, "use": 0, "manage": 0}
    with engine.begin() as conn:
        tag_ids, counts["tags_added"] = _ensure_tags(conn, load_tags(data_dir))
        first_pid = _max_id(conn, person) + 1
        writer = _Writer(conn)
        dropped = _drop_secondary_indexes(conn)
        maker = _PersonMaker(rng, city, tag_ids, today, seed, writer)
        maker.ids.reserve_existing(conn)
        district_of = bytearray(persons)
        stage_of = bytearray(persons)
        created_on = array("i", bytes(4 * persons))
        stage_names = ("discover", "cultivate", "use", "manage")
        for chunk_start in range(0, persons, CHUNK_ROWS):
            out: dict[str, list] = {"person": [], "stage_event": [], "appointment": [], "person_tag": []}
            for i in range(chunk_start, min(chunk_start + CHUNK_ROWS, persons)):
                district_of[i], stage_of[i], created_on[i] = maker.make(first_pid + i, out)
                counts[stage_names[stage_of[i]]] += 1
            for name in ("person", "stage_event", "appointment", "person_tag"):
                writer.insert(name, out[name])
            counts["persons"] += len(out["person"])
            counts["stage_events"] += len(out["stage_event"])
            counts["appointments"] += len(out["appointment"])
            counts["person_tags"] += len(out["person_tag"])

        n_activities = round(persons / 10)
        if n_activities:
            first_aid = _max_id(conn, activity) + 1
            acts = _ActivityMaker(rng, city, today, first_pid, district_of, stage_of, created_on, writer)
            batch = 200                          # ~200 activities ≈ 8,000 participations
            for chunk_start in range(0, n_activities, batch):
                out = {"activity": [], "participation": []}
                for k in range(chunk_start, min(chunk_start + batch, n_activities)):
                    acts.make(first_aid + k, out)
                writer.insert("activity", out["activity"])
                writer.insert("participation", out["participation"])
                counts["activities"] += len(out["activity"])
                counts["participations"] += len(out["participation"])

        counts["rep_requests"], counts["suggestions"] = _reps_demo(conn, seed, today, first_pid, persons)

        for index in dropped:
            index.create(conn)
        if conn.dialect.name == "postgresql":
            # Ids were assigned here, so the serial sequences must catch up for later inserts.
            for table in (person, activity, rep_request):
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
                ))
        # The seed is a starting point, not an edit: its change set holds no rows (a million
        # person inserts in the history would say nothing), only the audit entry and the bump.
        open_change_set(conn, "sync", "demo", "演示数据 · demo data").close(
            action="demo", detail={"seed": seed, "today": today.isoformat(), **counts})
    return counts


def count_persons(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(person)).scalar_one()


def run_demo_command(args) -> int:
    """`python -m loaders demo`: fill the store and print what was made and how long it took."""
    from store.engine import open_store

    # The demo generator is a bootstrap: `make run` creates the store with it on a first start.
    engine = open_store(args.db, create=True)
    try:
        if getattr(args, "if_empty", False):
            existing = count_persons(engine)
            if existing:
                print(f"已有 {existing} 人，跳过演示数据 · store not empty ({existing} persons), skipped")
                return 0
        if args.persons < 0:
            print("--persons 不能为负数 · --persons must be >= 0", file=sys.stderr)
            return 2
        started = time.perf_counter()
        counts = generate_demo(engine, persons=args.persons, seed=args.seed)
        elapsed = time.perf_counter() - started
    finally:
        engine.dispose()
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    print(f"演示数据已生成 · demo data written in {elapsed:.1f} s")
    return 0
