#!/usr/bin/env python3
"""Labelled synthetic corpus of driving-licence exam questions (科目一/科目四 style).

    gen_corpus.py --n N --seed S --out corpus.json --labels labels.json
                  [--format array|jsonl] [--dup-rate 0.3] [--hardneg-rate 0.1]
                  [--conflict-rate 0.01] [--no-kinds] [--quiet]

Every record has one schema:
    {"id", "question", "options", "answer", "explanation", "image", "type", "category"}
(id == the record's 0-based index in the file).

Base questions come from the templates below (written for this benchmark; no text
from any real question bank).  A base question is a *content key*: a template plus
one value per slot.  Records are:
  * base        the canonical rendering of a key (one per gold cluster);
  * dup         the same key rendered with several scraping variations (same cluster);
  * hard neg    a different key (or an option set) that differs in one semantic
                detail from a base: number / negation / option / image / swap
                (a different gold cluster);
  * conflict    a dup whose answer differs (same cluster, listed in "conflicts").
Gold clusters are content identities, so a hard negative whose key happens to be
another base question joins that base's cluster: labels never contradict the text.

labels.json:
    {"seed", "n", "cluster": [gold id per record], "hard_negatives": [{"a","b","kind"}],
     "conflicts": [{"a","b"}], "kinds": {"index": "comma,separated,kinds"},
     "counts": {...}, "variant_kinds": [...], "hardneg_kinds": [...]}
"kinds" lists the variations applied to a record relative to its canonical
rendering ("hn:number", "conflict", ...); canonical (base) records are omitted.
Deterministic for a given --seed (and the same script version).
"""
import argparse
import json
import signal
import math
import random
import sys
import time

# --------------------------------------------------------------------------- numerals
_CN_DIG = "零一二三四五六七八九"


def to_cn(n):
    """Integer 0..99999 -> Chinese numeral (50 -> 五十, 105 -> 一百零五, 2000 -> 二千)."""
    if n == 0:
        return "零"
    units = [(10000, "万"), (1000, "千"), (100, "百"), (10, "十"), (1, "")]
    out, zero = [], False
    started = False
    for u, name in units:
        d = n // u
        n %= u
        if d:
            if zero and started:
                out.append("零")
            zero = False
            if not (u == 10 and d == 1 and not started):
                out.append(_CN_DIG[d])
            out.append(name)
            started = True
        elif started:
            zero = True
    return "".join(out)


def from_cn(s):
    """Small Chinese numeral -> int (三 -> 3, 十二 -> 12, 二十 -> 20); None if not one."""
    vals = {c: i for i, c in enumerate(_CN_DIG)}
    vals["两"] = 2
    total, cur = 0, 0
    for ch in s:
        if ch in vals:
            cur = vals[ch]
        elif ch == "十":
            total += (cur or 1) * 10
            cur = 0
        elif ch == "百":
            total += (cur or 1) * 100
            cur = 0
        elif ch == "千":
            total += (cur or 1) * 1000
            cur = 0
        else:
            return None
    return total + cur


def alt_numeral(s):
    """The other spelling of a number slot value (Arabic <-> Chinese); s if none."""
    if s.isdigit():
        return to_cn(int(s))
    if s.endswith("%") and s[:-1].isdigit():
        return "百分之" + to_cn(int(s[:-1]))
    if s.startswith("百分之"):
        v = from_cn(s[3:])
        return "%d%%" % v if v is not None else s
    v = from_cn(s)
    return str(v) if v is not None else s


def mix(x):
    """32-bit integer hash (deterministic, independent of PYTHONHASHSEED)."""
    x &= 0xFFFFFFFF
    x = ((x ^ (x >> 16)) * 0x45D9F3B) & 0xFFFFFFFF
    x = ((x ^ (x >> 16)) * 0x45D9F3B) & 0xFFFFFFFF
    return x ^ (x >> 16)


# --------------------------------------------------------------------------- vocabulary
VEH = ["机动车", "小型汽车", "小型载客汽车", "中型客车", "大型客车", "载货汽车", "重型货车",
       "中型货车", "轻型货车", "低速载货汽车", "三轮汽车", "普通摩托车", "校车", "危险物品运输车",
       "半挂牵引车", "小型自动挡汽车", "微型载客汽车", "城市公交车", "出租汽车", "旅游客车"]
ROAD = ["高速公路", "城市快速路", "普通公路", "山区公路", "乡村道路", "城市道路", "没有中心线的道路",
        "只有一条机动车道的道路", "窄路", "窄桥", "急弯路", "陡坡路", "环山公路", "沿河道路", "施工路段",
        "积水路面", "漫水桥", "泥泞道路", "冰雪路面", "学校附近道路", "居民区道路", "集市附近道路",
        "长下坡路段", "连续弯道"]
COND = ["雨天", "雾天", "大雪天气", "大风天气", "沙尘天气", "冰雹天气", "暴雨天气", "夜间", "黄昏",
        "黎明", "路面结冰", "路面湿滑", "能见度很低", "前方车辆排队", "行人横穿道路", "前方有学生队伍",
        "非机动车突然驶入", "牲畜横穿道路", "前方发生交通事故", "交通信号灯故障", "前车紧急制动",
        "对向车辆占道行驶", "后车鸣喇叭要求超车", "道路积水较深"]
WHEN = ["行驶", "起步", "转弯", "会车", "超车", "跟车行驶"]
GOOD_ACT = ["减速慢行", "降低车速，谨慎驾驶", "加大与前车的距离", "开启危险报警闪光灯", "停车避让",
            "提前减速，观察清楚后通过", "低速缓慢通过", "耐心跟车行驶", "靠右侧减速行驶", "主动让行",
            "控制车速，随时准备停车", "开启近光灯和示廓灯", "开启雾灯", "握稳方向盘，缓踩制动",
            "保持安全车速"]
BAD_ACT = ["加速通过", "紧急转向避让", "连续变更车道", "开启远光灯", "鸣喇叭催促", "强行超越前车",
           "借用对向车道行驶", "空挡滑行", "猛踩制动踏板", "随意停车", "逆向行驶", "在路中停车等候",
           "跟随前车快速通过", "关闭所有灯光", "急打方向盘"]
ACT = GOOD_ACT + BAD_ACT
ACT_GOOD = [True] * len(GOOD_ACT) + [False] * len(BAD_ACT)
# negation slots: even index = positive, odd = its negation (flip with ^1)
NEG = ["应当", "不得", "可以", "不可以"]
NEG2 = ["需要", "不需要", "允许", "禁止"]
SPEED = ["20", "30", "40", "50", "60", "70", "80", "90", "100", "110", "120"]
DIST = ["5", "10", "20", "30", "50", "80", "100", "150", "200", "300"]
FINE = ["20", "50", "100", "200", "500", "1000", "2000"]
POINTS = ["1", "3", "6", "9", "12"]
SURNAME = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高",
           "林", "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧"]
# (violation, points)
VIOL = [("饮酒后驾驶", 12), ("造成交通事故后逃逸", 12), ("使用伪造的机动车号牌", 12),
        ("在高速公路上倒车", 12), ("在高速公路上逆向行驶", 12), ("在高速公路上穿越中央分隔带掉头", 12),
        ("驾驶与准驾车型不符的车辆", 9), ("未悬挂机动车号牌上道路行驶", 9), ("故意遮挡机动车号牌", 9),
        ("违反交通信号灯通行", 6), ("不按规定避让校车", 6), ("在高速公路应急车道内停车", 6),
        ("驾驶证被暂扣期间驾驶", 6), ("不按规定会车", 1), ("不按规定超车", 3),
        ("在高速公路上不按规定车道行驶", 3), ("行经人行横道不避让行人", 3), ("不按规定使用灯光", 1),
        ("违反禁令标志指示", 1), ("不按规定安装机动车号牌", 1), ("未按规定系安全带", 1),
        ("开车时拨打手持电话", 3), ("违反规定停车影响交通", 3), ("违反规定在专用车道内行驶", 3)]
VIOL_TXT = [v for v, _ in VIOL]
DOCS = ["驾驶证", "行驶证", "保险标志", "检验合格标志", "机动车号牌"]
LIC = ["C1", "C2", "C3", "C5", "C6", "B1", "B2", "A1", "A2", "A3", "D", "E", "F", "M", "N", "P"]
AGE = ["16", "18", "20", "21", "22", "24", "26", "60", "63", "70"]
PERSON = ["初次申领者", "在校学生", "退休人员", "外籍人员", "持有C1驾驶证的人", "持有B2驾驶证的人",
          "增驾申请人", "转业军人"]
YEARS = ["一", "二", "三", "五", "六", "十"]
DAYS = ["7", "10", "15", "30", "60", "90"]
PLACES = ["交叉路口", "铁路道口", "急弯路", "窄路", "桥梁", "陡坡", "隧道", "公共汽车站", "急救站",
          "加油站", "消防栓", "消防队门前"]
PLACE_REQ = [50, 50, 50, 50, 50, 50, 50, 30, 30, 30, 30, 30]
STOPACT = ["停车", "临时停车", "长时间停车", "掉头", "倒车", "超车"]
MANEUVER = [("向左转弯", 0), ("向右转弯", 1), ("向左变更车道", 0), ("向右变更车道", 1), ("准备超车", 0),
            ("超车完毕驶回原车道", 1), ("靠路边停车", 1), ("驶离停车地点", 0), ("掉头", 0)]
DIRS = ["左", "右"]
DAYNIGHT = ["白天", "夜间"]
SWITCH = ["开启", "关闭"]
BEAM = ["近光灯", "远光灯"]
SCENE = ["会车", "跟车", "通过人行横道", "通过交叉路口", "超车"]
SLOPE = ["上坡", "下坡"]
SLOPE_ACT = [("提前换入低速挡", True), ("挂空挡滑行", False), ("加速冲过坡顶", False),
             ("保持适当车速", True), ("靠右侧行驶", True), ("在坡道上超车", False),
             ("在坡道中途停车", False), ("间歇使用行车制动", True)]
SPDACT = ["减速", "加速"]
HAZARD = ["前方有行人", "路边有儿童玩耍", "前方有施工作业", "前方道路变窄", "前方有积水",
          "前方有障碍物", "前方出现急弯", "前方有牲畜", "前方有学校", "前方车辆突然减速",
          "路面有落石", "前方是铁路道口", "前方有自行车", "前方有故障车", "前方出现浓雾",
          "桥面结冰", "前方有校车停靠", "对向车辆开远光灯", "前方有交通警察指挥", "前方有人行横道"]
OVT_REASON = ["前车正在左转弯", "前车正在掉头", "前车正在超车", "前车为执行任务的救护车",
              "前车为执行任务的消防车", "前车为行驶缓慢的拖拉机", "前方为普通车辆"]
EMERG = ["轮胎突然爆裂", "转向突然失控", "行车制动突然失效", "发动机突然熄火", "车辆起火",
         "车辆落水", "车辆发生侧滑", "被水淹没", "车门无法打开", "前风窗玻璃破裂", "油门卡滞",
         "遭遇追尾"]
EM_GOOD = ["握稳方向盘，逐渐减速", "开启危险报警闪光灯，靠边停车", "迅速离开车辆到安全地带",
           "利用发动机制动降低车速", "先稳住方向再轻踩制动", "解开安全带，设法从车窗逃生",
           "向后方来车发出警示信号", "拨打救援电话请求帮助"]
EM_BAD = ["紧急制动停车", "猛打方向盘", "立即拉紧驻车制动", "加速驶离现场", "继续高速行驶",
          "关闭所有车窗等待", "原地熄火等待", "下车查看车辆损坏"]
CHEM = ["汽油", "柴油", "液化石油气", "液氨", "氯气", "硫酸", "盐酸", "天然气", "苯", "甲醇",
        "乙醇", "氢氧化钠", "过氧化氢", "液氧", "煤油"]
CHEM_ACT = [("迅速撤离到上风方向", True), ("用湿毛巾捂住口鼻", True), ("远离泄漏区域", True),
            ("立即报警说明泄漏物品", True), ("设置警示区域", True), ("在附近吸烟等候", False),
            ("靠近围观", False), ("用手直接触摸泄漏物", False), ("向下风方向撤离", False),
            ("自行用水冲洗泄漏区域", False), ("驾车从泄漏区域穿过", False), ("进入低洼处躲避", False)]
INJ = ["骨折", "大出血", "烧伤", "昏迷", "呼吸停止", "休克", "颈椎受伤", "头部受伤", "心脏骤停",
       "肢体离断", "眼部受伤", "腹部内脏脱出"]
INJ_GOOD = ["先止血再包扎", "保持呼吸道通畅", "就地取材固定伤肢", "立即拨打急救电话",
            "用干净布料覆盖伤口", "平卧并注意保暖", "做胸外心脏按压"]
INJ_BAD = ["随意搬动伤员", "用手直接拔出异物", "给伤员喝水", "用力摇晃伤员", "扶伤员站立行走",
           "用脏布塞住伤口", "涂抹牙膏降温"]
ACC = ["追尾碰撞", "侧面刮擦", "与行人相撞", "与非机动车相撞", "单车撞护栏", "车辆翻覆",
       "与对向车辆正面相撞", "多车连环相撞"]
ACC_GOOD = ["立即停车，保护现场", "开启危险报警闪光灯", "在来车方向设置警告标志", "及时报警",
            "抢救受伤人员", "标明车辆位置后撤离现场", "人员转移到护栏外"]
ACC_BAD = ["驾车离开现场", "与对方私了后离开", "在车道内与对方争吵", "移动现场物品",
           "站在车后等待", "拆除事故车辆部件", "关闭手机等待"]
FAULT = [("制动系统失效", False), ("转向灯损坏", False), ("雨刮器损坏", False), ("安全带损坏", False),
         ("喇叭不响", False), ("前照灯损坏", False), ("后视镜破损", False), ("轮胎严重磨损", False)]
PART_CTX = ["上路前检查发现", "行驶途中发现", "出车前发现", "年检前发现"]
CARS = ["小型汽车", "载货汽车", "客车", "摩托车", "挂车", "校车"]

# multi-choice pools
M_GOOD = ["提前减速", "注意观察行人动态", "保持安全距离", "开启示廓灯", "随时准备停车",
          "按规定使用灯光", "礼让行人和非机动车", "靠右侧通行", "谨慎驾驶", "降低车速"]
M_BAD = ["鸣喇叭催促", "加速抢行", "频繁变道", "占用对向车道", "开启远光灯跟车", "紧跟前车",
         "随意停车", "强行超车"]

CAT1 = ["驾驶证和机动车管理规定", "道路通行条件及通行规定", "道路交通安全违法行为及处罚",
        "道路交通事故处理相关规定", "机动车基础知识"]
CAT4 = ["安全行车常识", "文明行车常识", "恶劣气候和复杂道路条件下驾驶常识", "紧急情况下避险常识",
        "交通事故救护及常见危化品处置常识"]
CAT_ALT = {"驾驶证和机动车管理规定": "驾驶证管理", "道路通行条件及通行规定": "通行规定",
           "道路交通安全违法行为及处罚": "违法处罚", "道路交通事故处理相关规定": "事故处理",
           "机动车基础知识": "车辆知识", "安全行车常识": "安全行车", "文明行车常识": "文明驾驶",
           "恶劣气候和复杂道路条件下驾驶常识": "恶劣条件驾驶", "紧急情况下避险常识": "紧急避险",
           "交通事故救护及常见危化品处置常识": "事故救护"}

# ------------------------------------------------------------------ sign families (images)
def _signs():
    fam = []  # (family, names)
    fam.append(("speed", ["限制速度为每小时%s公里" % v for v in range(5, 125, 5)]))
    fam.append(("minspeed", ["最低限速每小时%s公里" % v for v in range(40, 125, 10)] +
                ["解除限制速度每小时%s公里" % v for v in range(20, 125, 10)]))
    fam.append(("height", ["限制高度为%.1f米" % (h / 10) for h in range(20, 56, 1)]))
    fam.append(("width", ["限制宽度为%.1f米" % (w / 10) for w in range(20, 46, 1)]))
    fam.append(("weight", ["限制质量为%d吨" % t for t in range(5, 61, 5)] +
                ["限制轴重为%d吨" % t for t in range(5, 21)]))
    fac = ["加油站", "服务区", "停车区", "收费站", "隧道", "出口", "紧急停车带", "避险车道", "观景台",
           "休息区"]
    fam.append(("distance", ["前方%d米处有%s" % (d, f) for f in fac for d in range(100, 1100, 100)]))
    ban = ["机动车驶入", "载货汽车驶入", "小型客车驶入", "摩托车驶入", "拖拉机驶入", "非机动车进入",
           "行人进入", "向左转弯", "向右转弯", "直行", "向左向右转弯", "直行和向左转弯", "直行和向右转弯",
           "掉头", "超车", "鸣喇叭", "停车", "长时停车", "畜力车进入", "三轮汽车驶入", "电动自行车进入",
           "危险物品车辆驶入", "大型客车驶入", "挂车驶入", "人力货运三轮车进入"]
    fam.append(("ban", ["禁止" + b for b in ban]))
    warn = ["落石", "横风", "儿童", "行人", "非机动车", "野生动物", "牲畜", "信号灯", "路面结冰",
            "雨雪天气", "雾天", "潮湿路面", "前方障碍物", "危险路段", "残疾人", "合流", "保持车距",
            "避险车道", "隧道开车灯", "左侧绕行", "右侧绕行", "注意分离式道路"]
    fam.append(("warn", ["注意" + w if not w.startswith("注意") else w for w in warn] +
                ["%s急弯路" % d for d in ("向左", "向右")] + ["%s变窄" % d for d in ("左侧", "右侧", "两侧")] +
                ["连续弯路", "上陡坡", "下陡坡", "连续下坡", "易滑路段", "傍山险路", "堤坝路", "村庄",
                 "隧道", "渡口", "驼峰桥", "路面不平", "过水路面", "有人看守铁路道口",
                 "无人看守铁路道口", "事故易发路段", "慢行", "施工"]))
    ind = ["直行", "向左转弯", "向右转弯", "直行和向左转弯", "直行和向右转弯", "向左和向右转弯",
           "靠右侧道路行驶", "靠左侧道路行驶", "立交直行和左转弯行驶", "立交直行和右转弯行驶", "环岛行驶",
           "单行路向左或向右", "单行路直行", "步行", "鸣喇叭", "最低限速", "路口优先通行", "会车先行",
           "人行横道", "右转车道", "左转车道", "直行车道", "直行和右转合用车道", "分向行驶车道",
           "公交线路专用车道", "机动车行驶", "非机动车行驶", "允许掉头"]
    fam.append(("indicate", [i + "标志" if len(i) < 4 else i for i in ind]))
    return fam


SIGN_FAMS = _signs()
SIGNS = []       # (name, family index)
for _fi, (_fn, _names) in enumerate(SIGN_FAMS):
    for _n in _names:
        SIGNS.append((_n, _fi))
SIGN_NAMES = [s for s, _ in SIGNS]
MARKINGS = ["可跨越对向车行道分界线", "禁止跨越对向车行道分界线", "可跨越同向车行道分界线",
            "禁止跨越同向车行道分界线", "潮汐车道线", "左弯待转区线", "导向车道线", "人行横道线",
            "停止线", "减速让行线", "停车让行线", "网状线", "中心圈", "车距确认线", "纵向减速标线",
            "横向减速标线", "路口导向线", "公交专用车道线", "出租车专用待客停车位", "禁止掉头标记",
            "收费岛标线", "道路出入口标线", "非机动车禁驶区", "港湾式停靠站", "接近障碍物标线",
            "立面标记", "实体隔离设施", "可变导向车道线", "路面文字标记", "禁止停车线"]
GESTURES = ["停止信号", "直行信号", "左转弯信号", "左转弯待转信号", "右转弯信号", "变道信号",
            "减速慢行信号", "示意车辆靠边停车信号"]
LIGHTS = ["发动机机油压力过低", "燃油量不足", "冷却液温度过高", "制动系统异常", "安全带未系好",
          "车门未关闭", "远光灯开启", "近光灯开启", "前雾灯开启", "后雾灯开启", "危险报警闪光灯开启",
          "示廓灯开启", "发动机故障", "防抱死制动系统故障", "安全气囊故障", "驻车制动器拉紧",
          "充电电路故障", "胎压异常", "后风窗除霜开启", "内循环开启", "外循环开启", "前风窗除霜开启",
          "行李舱开启", "发动机舱开启", "转向助力系统故障", "车身稳定系统关闭", "巡航控制开启",
          "风窗玻璃洗涤液不足"]

# ------------------------------------------------------------------------- templates
ROLE_PLAIN, ROLE_NUMBER, ROLE_NEG, ROLE_SWAP, ROLE_IMAGE = 0, 1, 2, 3, 4
ROLE_NAMES = {"number": ROLE_NUMBER, "negation": ROLE_NEG, "swap": ROLE_SWAP, "image": ROLE_IMAGE}


def _compile_stem(stem):
    """'[x]' = optional word present in the canonical form, '<x>' = optional word absent
    from it.  Returns (canonical, [alternatives]) with the markers resolved."""
    parts, marks = [], []
    i = 0
    while i < len(stem):
        c = stem[i]
        if c in "[<":
            j = stem.index("]" if c == "[" else ">", i)
            marks.append(len(parts))
            parts.append((c == "[", stem[i + 1:j]))
            i = j + 1
        else:
            parts.append((None, c))
            i += 1

    def build(flip):
        out = []
        for k, (present, txt) in enumerate(parts):
            if present is None:
                out.append(txt)
            else:
                on = present ^ (k in flip)
                if on:
                    out.append(txt)
        return "".join(out)

    canon = build(set())
    alts = []
    if marks:
        subsets = [{m} for m in marks]
        if len(marks) > 1:
            subsets.append(set(marks))
        for s in subsets:
            a = build(s)
            if a != canon and a not in alts:
                alts.append(a)
    return canon, alts


class Tpl:
    def __init__(self, typ, cat, stem, slots, judge=None, choice=None, image=None,
                 topic="安全驾驶知识", short=None, noun=None):
        self.typ = typ
        self.cat = cat
        self.fmt, self.fmt_alts = _compile_stem(stem)
        self.names = [s[0] for s in slots]
        self.vals = [s[1] for s in slots]
        for nm, vs in zip(self.names, self.vals):
            if len(set(vs)) != len(vs):
                raise ValueError("template %r: slot %s repeats a value" % (stem, nm))
            if "{%s}" % nm not in stem and not (len(slots) > 0 and image):
                raise ValueError("template %r: slot %s not shown" % (stem, nm))
        self.roles = [ROLE_NAMES.get(s[2], ROLE_PLAIN) if len(s) > 2 else ROLE_PLAIN for s in slots]
        self.alt_vals = [[alt_numeral(v) for v in vs] if r == ROLE_NUMBER else vs
                         for vs, r in zip(self.vals, self.roles)]
        self.sizes = [len(v) for v in self.vals]
        self.strides = []
        m = 1
        for s in self.sizes:
            self.strides.append(m)
            m *= s
        self.space = m
        self.judge = judge
        self.choice = choice
        self.image = image          # None | "sign" | "scene"
        self.topic = topic
        self.short = short or topic
        self.has_numeral = any(r == ROLE_NUMBER and any(a != v for a, v in zip(av, vs))
                               for r, av, vs in zip(self.roles, self.alt_vals, self.vals))
        self.role_slots = {}
        for k, r in enumerate(self.roles):
            self.role_slots.setdefault(r, []).append(k)

    def decode(self, key):
        ix = []
        for s in self.sizes:
            ix.append(key % s)
            key //= s
        return ix

    def hn_kinds(self):
        k = set()
        if ROLE_NUMBER in self.role_slots:
            k.add("number")
        if ROLE_NEG in self.role_slots:
            k.add("negation")
        if ROLE_SWAP in self.role_slots:
            k.add("swap")
        if ROLE_IMAGE in self.role_slots:
            k.add("image")
        if self.typ != "judge":
            k.add("option")
        return k


def pick_distinct(pool, n, h, exclude=()):
    """n distinct items of pool chosen by hash h (deterministic)."""
    out = []
    L = len(pool)
    i = h % L
    step = 1 + (h >> 8) % (L - 1) if L > 1 else 1
    while math.gcd(step, L) != 1:
        step += 1
    for _ in range(L):
        v = pool[i]
        if v not in exclude and v not in out:
            out.append(v)
            if len(out) == n:
                break
        i = (i + step) % L
    return out


def ch_pools(good, bad, nbad=3):
    """single choice: one item of good + nbad of bad, chosen by the key hash."""
    def f(ix, key, h):
        g = good[h % len(good)]
        b = pick_distinct(bad, nbad, h >> 5)
        return [g] + b, {0}, bad
    return f


def ch_multi(good, bad):
    def f(ix, key, h):
        k = 2 + h % 3          # 2..4 correct
        g = pick_distinct(good, k, h >> 3)
        b = pick_distinct(bad, 4 - k, h >> 11) if k < 4 else []
        return g + b, set(range(k)), bad
    return f


def ch_numeric(values, unit, correct_fn):
    """four numbers of values; correct_fn(ix, h) -> index into values."""
    def f(ix, key, h):
        ci = correct_fn(ix, h) % len(values)
        c = values[ci]
        others = pick_distinct(values, 3, h >> 7, exclude=(c,))
        opts = [c + unit] + [o + unit for o in others]
        pool = [v + unit for v in values]
        return opts, {0}, pool
    return f


_OTHERS = {}


def ch_named(names, fam_of=None, slot=0, photo_slot=1, photos=12):
    """image questions: the correct name is names[ix[slot]], three distractors from its
    family.  Each photo of one sign gets a different distractor set (a window of a
    fixed permutation of the family), so no two keys share image *and* options."""
    def f(ix, key, h):
        i = ix[slot]
        c = names[i]
        pool = fam_of[i] if fam_of is not None else names
        ex = [x for x in pool if x != c]
        L = len(ex)
        hs = mix(i * 7 + 3)
        stp = 1 + hs % (L - 1) if L > 1 else 1
        while math.gcd(stp, L) != 1:
            stp += 1
        start = ix[photo_slot] * max(1, L // photos)
        if start + 3 <= L:
            d = [ex[(hs + (start + k) * stp) % L] for k in range(3)]
        else:   # more photos than the family has windows: borrow names of other families
            others = _OTHERS.get(id(pool))
            if others is None:
                ps = set(pool)
                others = _OTHERS[id(pool)] = [x for x in names if x not in ps]
            ex = [ex[(hs + k * stp) % L] for k in range(L)] + others
            d = ex[start:start + 3]
        return [c] + d, {0}, pool
    return f


_FAM_POOL = {}
for _fi, (_fn, _names) in enumerate(SIGN_FAMS):
    _FAM_POOL[_fi] = _names
SIGN_FAM_POOLS = [_FAM_POOL[fi] for _, fi in SIGNS]

T = []


def add(*a, **k):
    T.append(Tpl(*a, **k))


# --- 道路通行条件及通行规定
add("judge", CAT1[1], "驾驶{veh}在{road}上遇到{cond}[时]，{neg}{act}。",
    [("veh", VEH), ("road", ROAD), ("cond", COND), ("neg", NEG, "negation"), ("act", ACT)],
    judge=lambda ix, h: ACT_GOOD[ix[4]] == (ix[3] % 2 == 0),
    topic="复杂条件下的通行规定", short="遇到{cond}要谨慎")
add("single", CAT4[2], "驾驶{veh}在{road}上{when}[时]遇到{cond}，<下列>哪种[做法]是正确的？",
    [("veh", VEH), ("road", ROAD), ("when", WHEN), ("cond", COND)],
    choice=ch_pools(GOOD_ACT, BAD_ACT), topic="恶劣条件下的安全驾驶", short="{cond}，安全第一")
add("judge", CAT1[1],
    "驾驶{veh}在{road}上以每小时{v}公里的速度行驶时，[应当]与同车道前车保持{d}米以上的距离。",
    [("veh", VEH), ("road", ROAD), ("v", SPEED, "number"), ("d", DIST, "number")],
    judge=lambda ix, h: int(DIST[ix[3]]) >= int(SPEED[ix[2]]),
    topic="跟车距离", short="车速多少，车距多少")
add("judge", CAT1[1], "{day}驾驶{veh}在{road}上{scene}时，{neg}{sw}{beam}。",
    [("day", DAYNIGHT, "swap"), ("veh", VEH), ("road", ROAD), ("scene", SCENE),
     ("neg", NEG, "negation"), ("sw", SWITCH, "swap"), ("beam", BEAM, "swap")],
    judge=lambda ix, h: (((ix[5] == 0) == (ix[6] == 0)) if ix[0] == 1 else ix[5] == 1) == (ix[4] % 2 == 0),
    topic="灯光使用", short="夜间会车用近光")
add("judge", CAT1[1], "驾驶{veh}在{road}上{man}[时]，{neg}提前开启{dir}转向灯。",
    [("veh", VEH), ("road", ROAD), ("man", [m for m, _ in MANEUVER]), ("neg", NEG, "negation"),
     ("dir", DIRS, "swap")],
    judge=lambda ix, h: (MANEUVER[ix[2]][1] == ix[4]) == (ix[3] % 2 == 0),
    topic="转向灯的使用", short="左转开左灯，右转开右灯")
add("single", CAT1[1], "驾驶{veh}在{road}上{when}，遇{cond}[时]，最高速度不能超过每小时多少公里？",
    [("veh", VEH), ("road", ROAD), ("when", WHEN), ("cond", COND)],
    choice=ch_numeric(SPEED, "公里", lambda ix, h: 1 + h % 5), topic="限速规定",
    short="条件不好要降速")
add("judge", CAT1[1], "在距离{place}{d}米以内的路段，驾驶{veh}{neg}{act}。",
    [("place", PLACES), ("d", DIST, "number"), ("veh", VEH), ("neg", NEG, "negation"),
     ("act", STOPACT)],
    judge=lambda ix, h: (int(DIST[ix[1]]) <= PLACE_REQ[ix[0]]) == (ix[3] % 2 == 1),
    topic="停车规定", short="路口五十米内不停车")
add("single", CAT4[0], "{day}驾驶{veh}在{road}上遇到{hz}[时]，<下列>[说法]正确的是？",
    [("day", DAYNIGHT, "swap"), ("veh", VEH), ("road", ROAD), ("hz", HAZARD)],
    choice=ch_pools(["应当" + g for g in GOOD_ACT] + ["不得" + b for b in BAD_ACT],
                    ["应当" + b for b in BAD_ACT] + ["可以" + b for b in BAD_ACT] +
                    ["不得" + g for g in GOOD_ACT[:8]]),
    topic="危险情况的处置", short="发现危险先减速")
add("judge", CAT1[1], "驾驶{veh}在{road}上超车时，如果{why}，{neg}从前车的{dir}侧超越。",
    [("veh", VEH), ("road", ROAD), ("why", OVT_REASON), ("neg", NEG, "negation"),
     ("dir", DIRS, "swap")],
    judge=lambda ix, h: (ix[4] == 0 and ix[2] == 6) == (ix[3] % 2 == 0),
    topic="超车规定", short="超车从左侧")
add("judge", CAT4[0], "驾驶{veh}在{road}上行驶，发现{hz}[时]，{neg}{spd}通过。",
    [("veh", VEH), ("road", ROAD), ("hz", HAZARD), ("neg", NEG, "negation"), ("spd", SPDACT, "swap")],
    judge=lambda ix, h: (ix[4] == 0) == (ix[3] % 2 == 0),
    topic="危险路段的通行", short="发现危险先减速")
add("judge", CAT4[2], "驾驶{veh}在{road}的{slope}路段{when}[时]，{neg}{sa}。",
    [("veh", VEH), ("road", ROAD), ("slope", SLOPE, "swap"), ("when", WHEN), ("neg", NEG, "negation"),
     ("sa", [a for a, _ in SLOPE_ACT])],
    judge=lambda ix, h: (SLOPE_ACT[ix[5]][1] if ix[2] == 1 or ix[5] != 0 else True) == (ix[4] % 2 == 0),
    topic="坡道驾驶", short="下坡不空挡")
add("single", CAT1[1], "{day}驾驶机动车在{road}上{scene}[时]，<下列>哪种[做法]是正确的？",
    [("day", DAYNIGHT, "swap"), ("road", ROAD), ("scene", SCENE + [w for w in WHEN if w not in SCENE])],
    choice=ch_pools(GOOD_ACT, BAD_ACT), topic="安全通行", short="礼让慢行")
add("judge", CAT1[1], "{day}驾驶机动车在{road}上遇到{cond}[时]，{neg}{sw}危险报警闪光灯。",
    [("day", DAYNIGHT, "swap"), ("road", ROAD), ("cond", COND), ("neg", NEG, "negation"),
     ("sw", SWITCH, "swap")],
    judge=lambda ix, h: (ix[4] == 0) == (ix[3] % 2 == 0),
    topic="危险报警闪光灯的使用", short="危险情况开双闪")
# --- 道路交通安全违法行为及处罚
add("single", CAT1[2], "{who}驾驶{veh}在{road}上{viol}的，一次记几分？",
    [("who", ["机动车驾驶人", "新手驾驶人", "实习期驾驶人", "持证驾驶人"]), ("veh", VEH), ("road", ROAD),
     ("viol", VIOL_TXT)],
    choice=ch_numeric(POINTS, "分", lambda ix, h: POINTS.index(str(VIOL[ix[3]][1]))),
    topic="交通违法记分", short="记分规则要牢记")
add("judge", CAT1[2], "驾驶{veh}在{road}上{viol}的，一次记{p}分。",
    [("veh", VEH), ("road", ROAD), ("viol", VIOL_TXT), ("p", POINTS, "number")],
    judge=lambda ix, h: int(POINTS[ix[3]]) == VIOL[ix[2]][1],
    topic="交通违法记分", short="记{p}分的情形")
add("judge", CAT1[2], "{sn}某驾驶{veh}{viol}，被处{x}元罚款，记{p}分。",
    [("sn", SURNAME), ("veh", VEH), ("viol", VIOL_TXT), ("x", FINE, "number"), ("p", POINTS, "number")],
    judge=lambda ix, h: int(POINTS[ix[4]]) == VIOL[ix[2]][1] and ix[3] == (h % 3) + 2,
    topic="违法行为的处罚", short="罚款与记分")
add("single", CAT1[2], "{sn}某驾驶{veh}在{road}上以每小时{v}公里的速度行驶，{viol}，应当受到什么处罚？",
    [("sn", SURNAME), ("veh", VEH), ("road", ROAD), ("v", SPEED, "number"), ("viol", VIOL_TXT)],
    choice=ch_numeric(FINE, "元罚款", lambda ix, h: 2 + h % 5),
    topic="违法行为的处罚", short="违法必受罚")
add("judge", CAT1[2], "驾驶{veh}超过规定时速{pct}以上的，处{x}元罚款。",
    [("veh", VEH), ("pct", ["10%", "20%", "30%", "50%", "70%", "100%"], "number"), ("x", FINE, "number")],
    judge=lambda ix, h: (ix[1] >= 3) == (ix[2] >= 4),
    topic="超速处罚", short="超速越多罚越重")
# --- 驾驶证和机动车管理规定
add("judge", CAT1[0], "{per}年满{a}周岁，{neg}申请{lic}准驾车型的机动车驾驶证。",
    [("per", PERSON), ("a", AGE, "number"), ("neg", NEG, "negation"), ("lic", LIC)],
    judge=lambda ix, h: (18 <= int(AGE[ix[1]]) <= 60) == (ix[2] % 2 == 0),
    topic="驾驶证申领年龄", short="年龄条件")
add("single", CAT1[0], "{per}{ctx}申请{lic}准驾车型的驾驶证，年龄[应当]在多少周岁以上？",
    [("per", PERSON), ("ctx", ["", "初次", "在户籍地"]), ("lic", LIC)],
    choice=ch_numeric(AGE[:7], "周岁", lambda ix, h: 1 + ix[2] % 5),
    topic="驾驶证申领年龄", short="年龄条件")
add("judge", CAT1[0], "{per}以{fraud}取得{doc}的，{y}年内不得再次申请。",
    [("per", PERSON), ("fraud", ["欺骗手段", "贿赂手段", "冒名顶替", "伪造材料", "隐瞒病史",
                                 "代替他人考试"]), ("doc", DOCS + ["机动车驾驶证"]),
     ("y", YEARS, "number")],
    judge=lambda ix, h: YEARS[ix[3]] == "三",
    topic="以不正当手段取得证件的处理", short="三年内不得申请")
add("judge", CAT1[0], "{ctx}驾驶{veh}上道路行驶[时]，{neg}随车携带{doc}。",
    [("veh", VEH), ("neg", NEG, "negation"), ("doc", DOCS[:2] + ["身份证", "登记证书", "购车发票"]),
     ("ctx", ["", "出车前，", "长途出行前，"])],
    judge=lambda ix, h: (ix[2] < 2) == (ix[1] % 2 == 0),
    topic="随车证件", short="驾驶证行驶证随车带")
add("judge", CAT1[0], "{per}的{lic}驾驶证在有效期满前{d}日内，{neg}向车辆管理所申请换证。",
    [("per", PERSON), ("lic", LIC), ("d", DAYS + ["100", "120"], "number"),
     ("neg", NEG2, "negation")],
    judge=lambda ix, h: (ix[2] == 5) == (ix[3] % 2 == 0),
    topic="驾驶证换证", short="期满前九十日内换证")
add("judge", CAT1[0], "{per}驾驶{veh}在实习期内，{neg}在{road}上独立驾驶。",
    [("per", PERSON), ("veh", VEH), ("neg", NEG2, "negation"), ("road", ROAD)],
    judge=lambda ix, h: (ix[3] != 0) == (ix[2] % 2 == 0),
    topic="实习期规定", short="实习期上高速要陪同")
# --- 道路交通事故处理相关规定
add("single", CAT1[3], "{sn}某驾驶{veh}在{road}上发生<了>{acc}，{when2}，正确的[做法]是什么？",
    [("sn", SURNAME), ("veh", VEH), ("road", ROAD), ("acc", ACC), ("when2", ["没有人员伤亡", "有人员受伤",
                                                            "车辆无法移动", "车辆可以移动"])],
    choice=ch_pools(ACC_GOOD, ACC_BAD), topic="事故现场处置", short="事故后先保护现场")
add("judge", CAT1[3], "驾驶{veh}在{road}上发生故障无法移动[时]，{neg}在来车方向{d}米以外设置警告标志。",
    [("veh", VEH), ("road", ROAD), ("neg", NEG, "negation"), ("d", DIST, "number")],
    judge=lambda ix, h: (int(DIST[ix[3]]) >= (150 if ix[1] < 2 else 50)) == (ix[2] % 2 == 0),
    topic="故障车警告标志", short="高速一百五，普通五十米")
add("judge", CAT1[3], "{sn}某驾驶{veh}与{other}发生{acc}，{nohurt}，{neg}自行协商处理。",
    [("sn", SURNAME), ("veh", VEH), ("other", ["行人", "自行车", "电动自行车", "小型汽车", "货车",
                                               "摩托车"]), ("acc", ACC),
     ("nohurt", ["没有人员伤亡", "造成人员受伤", "一方驾驶人饮酒", "一方无驾驶证"]),
     ("neg", NEG, "negation")],
    judge=lambda ix, h: (ix[4] == 0) == (ix[5] % 2 == 0),
    topic="事故自行协商", short="无伤亡可协商")
# --- 机动车基础知识
add("judge", CAT1[4], "{ctx}{car}{fault}[时]，{neg}继续上路行驶。",
    [("ctx", PART_CTX), ("car", CARS + [v for v in VEH if v not in CARS]), ("fault", [f for f, _ in FAULT]),
     ("neg", NEG2[2:] + NEG[2:], "negation")],
    judge=lambda ix, h: ix[3] % 2 == 1,
    topic="车辆安全技术状况", short="故障车不上路")
add("single", CAT1[4], "仪表板上（如图所示）亮起这个指示灯时，表示什么？",
    [("img", LIGHTS, "image"), ("photo", [str(i) for i in range(12)])],
    choice=ch_named(LIGHTS), image="sign", topic="仪表指示灯", short="认识仪表灯")
# --- 科目四
add("single", CAT4[3], "驾驶{veh}在{road}上以每小时{v}公里的速度行驶时{em}，应当怎样处置？",
    [("veh", VEH), ("road", ROAD), ("v", SPEED, "number"), ("em", EMERG)],
    choice=ch_pools(EM_GOOD, EM_BAD), topic="紧急情况避险", short="先稳方向再减速")
add("judge", CAT4[3], "驾驶{veh}在{road}上{spd}行驶中{em}[时]，{neg}{ea}。",
    [("veh", VEH), ("road", ROAD), ("spd", ["高速", "低速", "匀速"]), ("em", EMERG),
     ("neg", NEG, "negation"), ("ea", EM_GOOD + EM_BAD)],
    judge=lambda ix, h: (ix[5] < len(EM_GOOD)) == (ix[4] % 2 == 0),
    topic="紧急情况避险", short="遇险不慌")
add("multi", CAT4[0], "{day}驾驶{veh}{when}通过{road}{ctx}[时]，<以下>哪些[做法]是正确的？",
    [("day", DAYNIGHT, "swap"), ("veh", VEH), ("when", ["", "低速", "跟车", "夜行", "载客", "载货"]),
     ("road", ROAD), ("ctx", ["", "遇行人较多", "遇车辆较多"])],
    choice=ch_multi(M_GOOD, M_BAD), topic="安全行车常识", short="礼让慢行")
add("multi", CAT4[1], "驾驶{veh}在{road}上{scene}[时]，{who}<的>哪些行为是文明的？",
    [("veh", VEH), ("road", ROAD), ("scene", SCENE + [w for w in WHEN if w not in SCENE]), ("who", ["驾驶人", "司机", "驾车人"])],
    choice=ch_multi(M_GOOD, M_BAD), topic="文明行车常识", short="文明驾驶")
add("multi", CAT4[2], "驾驶{veh}在{road}上遇{cond}[时]，{neg}采取<下列>哪些措施？",
    [("veh", VEH), ("road", ROAD), ("cond", COND), ("neg", ["应当", "可以"])],
    choice=ch_multi(GOOD_ACT, BAD_ACT), topic="恶劣条件驾驶", short="恶劣天气慢行")
add("single", CAT4[4], "{ctx}驾驶{veh}在{road}上遇到{inj}的伤员[时]，{who}<首先>应当怎样做？",
    [("veh", VEH), ("road", ROAD), ("inj", INJ), ("who", ["驾驶人", "救护人员", "现场人员", "过往驾驶人"]),
     ("ctx", ["", "夜间", "雨中"])],
    choice=ch_pools(INJ_GOOD, INJ_BAD), topic="伤员救护", short="先救命后治伤")
add("judge", CAT4[4], "运载{chem}的{veh}在{road}上发生泄漏[时]，{neg}{ca}。",
    [("chem", CHEM), ("veh", ["罐车", "货车", "危险物品运输车", "厢式货车"]), ("road", ROAD),
     ("neg", NEG, "negation"), ("ca", [a for a, _ in CHEM_ACT])],
    judge=lambda ix, h: CHEM_ACT[ix[4]][1] == (ix[3] % 2 == 0),
    topic="危化品泄漏处置", short="上风撤离")
add("single", CAT4[4], "{sn}某驾驶运载{chem}的{veh}在{road}上发生泄漏，{who}<应当>采取<下列>哪种措施？",
    [("sn", SURNAME), ("chem", CHEM), ("veh", ["罐车", "货车", "危险物品运输车", "厢式货车"]), ("road", ROAD),
     ("who", ["驾驶人", "押运人员", "周围群众"])],
    choice=ch_pools([a for a, g in CHEM_ACT if g], [a for a, g in CHEM_ACT if not g]),
    topic="危化品泄漏处置", short="上风撤离")
add("multi", CAT1[3], "{sn}某驾驶{veh}在{road}上发生{acc}后，{who}应当做<下列>哪些事情？",
    [("sn", SURNAME), ("veh", VEH), ("road", ROAD), ("acc", ACC),
     ("who", ["驾驶人", "车上人员", "当事人", "随车人员"])],
    choice=ch_multi(ACC_GOOD, ACC_BAD), topic="事故现场处置", short="事故后先保护现场")
add("multi", CAT4[3], "驾驶{veh}在{road}上以每小时{v}公里的速度行驶时{em}，<下列>哪些[做法]是正确的？",
    [("veh", VEH), ("road", ROAD), ("v", SPEED, "number"), ("em", EMERG)],
    choice=ch_multi(EM_GOOD, EM_BAD), topic="紧急情况避险", short="先稳方向再减速")
add("multi", CAT4[4], "{sn}某驾驶运载{chem}的{veh}在{road}上发生泄漏[时]，应当采取<以下>哪些措施？",
    [("sn", SURNAME), ("chem", CHEM), ("veh", ["罐车", "货车", "危险物品运输车", "厢式货车"]),
     ("road", ROAD)],
    choice=ch_multi([a for a, g in CHEM_ACT if g], [a for a, g in CHEM_ACT if not g]),
    topic="危化品泄漏处置", short="上风撤离")
add("judge", CAT1[0], "{sn}某年满{a}周岁，持有{lic}驾驶证，{neg}驾驶{veh}上道路行驶。",
    [("sn", SURNAME), ("a", AGE, "number"), ("lic", LIC), ("neg", NEG, "negation"), ("veh", VEH)],
    judge=lambda ix, h: (18 <= int(AGE[ix[1]]) <= 70 and (ix[2] < 5) == (ix[4] in (0, 1, 2, 15, 16)))
    == (ix[3] % 2 == 0),
    topic="准驾车型与年龄", short="准驾车型要相符")
add("single", CAT1[0], "{sn}某年满{a}周岁，{ctx}，可以申请<下列>哪种准驾车型？",
    [("sn", SURNAME), ("a", AGE, "number"), ("ctx", ["初次申领", "身体条件合格", "已取得C1驾驶证三年",
                                                   "已取得B2驾驶证五年", "无交通违法记录"])],
    choice=ch_numeric(LIC, "车型", lambda ix, h: h % 6), topic="准驾车型与年龄", short="年龄决定车型")
add("judge", CAT1[1], "如图所示，{day}驾驶{veh}在{road}上{scene}[时]，{neg}{sw}{beam}。",
    [("img", [str(i) for i in range(60)], "image"), ("day", DAYNIGHT, "swap"), ("veh", VEH),
     ("road", ROAD), ("scene", SCENE), ("neg", NEG, "negation"), ("sw", SWITCH, "swap"),
     ("beam", BEAM, "swap")],
    judge=lambda ix, h: (((ix[6] == 0) == (ix[7] == 0)) if ix[1] == 1 else ix[6] == 1) == (ix[5] % 2 == 0),
    image="scene", topic="灯光使用", short="夜间会车用近光")
add("single", CAT4[2], "如图所示，驾驶{veh}在{road}上遇到这种情况[时]，<下列>哪种[做法]是正确的？",
    [("img", [str(i) for i in range(300)], "image"), ("veh", VEH), ("road", ROAD)],
    choice=ch_pools(GOOD_ACT, BAD_ACT), image="scene", topic="看图判断", short="看清图中情况")
add("multi", CAT4[0], "如图所示，驾驶{veh}行至{road}的这个位置[时]，<以下>哪些[做法]是正确的？",
    [("img", [str(i) for i in range(200)], "image"), ("veh", VEH), ("road", ROAD)],
    choice=ch_multi(M_GOOD, M_BAD), image="scene", topic="看图判断", short="看清图中情况")
# --- image questions (generic stems; the image decides)
add("single", CAT1[1], "这个标志是何含义？",
    [("img", SIGN_NAMES, "image"), ("photo", [str(i) for i in range(60)])],
    choice=ch_named(SIGN_NAMES, SIGN_FAM_POOLS, photos=60), image="sign", topic="道路交通标志", short="认识标志")
add("single", CAT1[1], "这个路面标记是何含义？",
    [("img", MARKINGS, "image"), ("photo", [str(i) for i in range(12)])],
    choice=ch_named(MARKINGS), image="sign", topic="道路交通标线", short="认识标线")
add("single", CAT1[1], "交通警察发出的是什么手势信号？",
    [("img", GESTURES, "image"), ("photo", [str(i) for i in range(len(GESTURES) - 1)])],
    choice=ch_named(GESTURES, photos=len(GESTURES) - 1), image="sign", topic="交通警察手势", short="认识手势")
add("judge", CAT1[1], "如图所示，驾驶{veh}遇到这种情况[时]，{neg}{act}。",
    [("img", [str(i) for i in range(400)], "image"), ("veh", VEH), ("neg", NEG, "negation"),
     ("act", ACT)],
    judge=lambda ix, h: (ACT_GOOD[ix[3]] ^ ((mix(ix[0] * 31 + ix[3]) & 7) == 0)) == (ix[2] % 2 == 0),
    image="scene", topic="看图判断", short="看清图中情况")
add("single", CAT1[1], "如图所示，驾驶{veh}在这种情况下[应当]怎样行驶？",
    [("img", [str(i) for i in range(600)], "image"), ("veh", VEH)],
    choice=ch_pools(GOOD_ACT, BAD_ACT), image="scene", topic="看图判断", short="看清图中情况")

for _i, _t in enumerate(T):
    _t.tid = _i

JUDGE_TRUE = "对"
REWORD = [("驾驶机动车", "驾车"), ("机动车驾驶人", "驾驶人"), ("下列", "以下"),
          ("公安机关交通管理部门", "交管部门"), ("危险报警闪光灯", "双闪灯"), ("高速公路", "高速"),
          ("怎样处置", "如何处置"), ("怎样做", "如何做"), ("是何含义", "是什么意思"),
          ("能见度很低", "能见度低"), ("驾驶证", "驾照")]
PUNCT = str.maketrans({"，": ",", "？": "?", "：": ":", "（": "(", "）": ")", "；": ";", "！": "!",
                       "。": "."})
WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in list(range(0x30, 0x3A)) +
                       list(range(0x41, 0x5B)) + list(range(0x61, 0x7B))} | {"%": "％", ".": "．"})
LETTERS = "ABCDEFGH"
PREFIX_STYLES = ["{L}、{x}", "{L}.{x}", "{L}．{x}", "{L}：{x}", "{L}:{x}", "{L} {x}", "({L}){x}",
                 "{x}"]
IMG_HOSTS = [("http://img.tiku-a.example/upload/", ".jpg"), ("https://cdn.jk-b.example/q/img/", ".jpg"),
             ("https://static.kaoshi-c.example/pic/", ".png"), ("//img.tiku-a.example/upload/", ".jpg")]

VARIANT_KINDS = ["punct", "width", "numbering", "html", "whitespace", "option_order", "option_prefix",
                 "modal", "age", "function_word", "reword", "numeral", "answer_encoding", "explanation",
                 "image_drop", "image_url", "category"]
VK_WEIGHT = {"punct": 6, "width": 3, "numbering": 4, "html": 2, "whitespace": 2, "option_order": 5,
             "option_prefix": 6, "modal": 6, "age": 5, "function_word": 5, "reword": 5, "numeral": 3,
             "answer_encoding": 5, "explanation": 4, "image_drop": 3, "image_url": 3, "category": 1}
SURFACE_KINDS = ["punct", "width", "numbering", "html", "whitespace", "option_prefix",
                 "answer_encoding", "explanation", "image_url"]
HN_KINDS = ["number", "negation", "option", "image", "swap"]
HN_WEIGHT = [0.25, 0.2, 0.2, 0.15, 0.2]


# --------------------------------------------------------------------------- rendering
class Renderer:
    def __init__(self, rng):
        self.rng = rng

    def applicable(self, tp, stem):
        k = ["punct", "width", "numbering", "html", "whitespace", "answer_encoding", "explanation",
             "category"]
        if tp.typ != "judge":
            k += ["option_order", "option_prefix"]
        if "应当" in stem:
            k.append("modal")
        if "周岁" in stem:
            k.append("age")
        if tp.fmt_alts:
            k.append("function_word")
        for a, _ in REWORD:
            if a in stem:
                k.append("reword")
                break
        if tp.has_numeral:
            k.append("numeral")
        if tp.image:
            k += ["image_drop", "image_url"]
        return k

    def choose_kinds(self, tp, stem, nmin, nmax, pool=None):
        rng = self.rng
        app = self.applicable(tp, stem) if pool is None else \
            [k for k in self.applicable(tp, stem) if k in pool]
        r = rng.random()
        n = nmin + int((r * r) * (nmax - nmin + 1))
        n = min(n, len(app))
        out = []
        ws = [VK_WEIGHT[k] for k in app]
        for _ in range(n):
            tot = sum(ws)
            x = rng.random() * tot
            for j, w in enumerate(ws):
                x -= w
                if x < 0 or j == len(ws) - 1:
                    out.append(app[j])
                    ws[j] = 0
                    break
        return out

    def render(self, idx, tp, key, mod, role, nvar):
        """role: 0 base, 1 dup, 2 hard negative, 3 conflict. Returns (record, kinds str)."""
        rng = self.rng
        ix = tp.decode(key)
        canon_stem = tp.fmt.format_map(dict(zip(tp.names, [v[i] for v, i in zip(tp.vals, ix)])))
        if role == 0:
            kinds = []
        elif role == 1 or role == 3:
            kinds = self.choose_kinds(tp, canon_stem, 1, nvar)
        else:
            kinds = self.choose_kinds(tp, canon_stem, 0, 2, SURFACE_KINDS) if rng.random() < 0.6 else []
        ks = set(kinds)
        if "numeral" in ks or "function_word" in ks:
            vals = tp.alt_vals if "numeral" in ks else tp.vals
            fmt = tp.fmt_alts[int(rng.random() * len(tp.fmt_alts))] if "function_word" in ks else tp.fmt
            stem = fmt.format_map(dict(zip(tp.names, [v[i] for v, i in zip(vals, ix)])))
        else:
            stem = canon_stem
        h = mix(key * 131 + tp.tid * 7919 + 17)
        image = None
        if tp.image:
            image = "%s%02d%08x" % ("s" if tp.image == "sign" else "p", tp.tid, mix(key * 64 + tp.tid))
        if tp.typ == "judge":
            truth = tp.judge(ix, h)
            opts = []
            correct = {0} if truth else {1}
            ans_text = "正确" if truth else "错误"
        else:
            opts, correct, pool = tp.choice(ix, key, h)
            if mod:
                pos, r = divmod(mod - 1, 1 << 20)
                opts = list(opts)
                opts[pos] = pool[r]
            # canonical order: a permutation fixed by the key
            n = len(opts)
            perm = list(range(n))
            hp = h >> 3
            for i in range(n - 1, 0, -1):
                j = hp % (i + 1)
                hp //= (i + 1)
                perm[i], perm[j] = perm[j], perm[i]
            opts = [opts[p] for p in perm]
            correct = {k for k, p in enumerate(perm) if p in correct}
            ans_text = "、".join(opts[k] for k in sorted(correct))
        vmap = dict(zip(tp.names, [v[i] for v, i in zip(tp.vals, ix)]))
        vmap["ans"] = ans_text
        explanation = "本题主要考查%s。%s，因此选择“%s”。" % (
            tp.topic, tp.short.format_map(vmap), ans_text)
        if role == 3:   # answer conflict: a wrong answer on an otherwise identical question
            if tp.typ == "judge":
                correct = {1 - next(iter(correct))}
            elif tp.typ == "single":
                c = next(iter(correct))
                correct = {(c + 1 + int(rng.random() * (len(opts) - 1))) % len(opts)}
            else:
                cands = [set(correct) ^ {k} for k in range(len(opts))]
                cands = [c for c in cands if c]
                correct = cands[int(rng.random() * len(cands))]
        # wording variants (stem and options)
        if "reword" in ks:
            for a, b in REWORD:
                if a in stem:
                    stem = stem.replace(a, b)
                    opts = [o.replace(a, b) for o in opts]
        if "modal" in ks:
            stem = stem.replace("应当", "应")
            opts = [o.replace("应当", "应") for o in opts]
        if "age" in ks:
            stem = stem.replace("周岁", "岁")
            opts = [o.replace("周岁", "岁") for o in opts]
        if "option_order" in ks and len(opts) > 1:
            order = list(range(len(opts)))
            while order == list(range(len(opts))):
                rng.shuffle(order)
            opts = [opts[o] for o in order]
            correct = {k for k, o in enumerate(order) if o in correct}
        typ = tp.typ
        # answer encoding
        enc = 0
        if "answer_encoding" in ks:
            enc = 1 + int(rng.random() * 3)
        if typ == "judge":
            t = 0 in correct
            if enc == 0:
                answer = "对" if t else "错"
            elif enc == 1:
                answer = "正确" if t else "错误"
            elif enc == 2:
                opts = ["正确", "错误"]
                answer = "A" if t else "B"
            else:
                answer = "√" if t else "×"
        else:
            cs = sorted(correct)
            if enc == 0:
                answer = ",".join(LETTERS[c] for c in cs)
            elif enc == 1:
                answer = "".join(LETTERS[c] for c in cs)
            elif enc == 2:
                answer = ",".join(str(c + 1) for c in cs) if rng.random() < 0.5 else "".join(str(c + 1) for c in cs)
            else:
                answer = "、".join(LETTERS[c] for c in cs) if len(cs) > 1 else LETTERS[cs[0]].lower()
        if opts:
            style = PREFIX_STYLES[1 + int(rng.random() * (len(PREFIX_STYLES) - 1))] \
                if "option_prefix" in ks else PREFIX_STYLES[0]
            opts = [style.format(L=LETTERS[k], x=o) for k, o in enumerate(opts)]
        if "punct" in ks:
            stem = stem.translate(PUNCT)
            if rng.random() < 0.3 and stem.endswith("。"):
                stem = stem[:-1]
            opts = [o.translate(PUNCT) for o in opts]
        if "width" in ks:
            stem = stem.translate(WIDTH)
            opts = [o.translate(WIDTH) for o in opts]
        if "numbering" in ks:
            n = 1 + int(rng.random() * 1500)
            r = int(rng.random() * 7)
            tag = {"single": "单选题", "multi": "多选题", "judge": "判断题"}[typ]
            stem = ("%d、" % n, "第%d题 " % n, "【%s】" % tag, "%d." % n, "（%s）" % tag[:2],
                    "%d．" % n, "【%s】%d、" % (tag, n))[r] + stem
        if "html" in ks:
            r = int(rng.random() * 4)
            if r == 0:
                stem = "<p>" + stem + "</p>"
            elif r == 1:
                stem = stem.replace("，", "，<br/>", 1) if "，" in stem else stem + "<br/>"
            elif r == 2:
                stem = "&nbsp;" + stem.replace("，", "，&nbsp;", 1)
            else:
                stem = '<span style="color:#333">' + stem + "</span>"
                opts = ["<p>" + o + "</p>" for o in opts]
        if "whitespace" in ks:
            r = int(rng.random() * 5)
            if r == 0:
                stem = "  " + stem + " "
            elif r == 1:
                stem = stem + "\n"
                opts = [o + " " for o in opts]
            elif r == 2:
                stem = "\u3000" + stem
            elif r == 3:
                opts = [o + " \\n\\n" for o in opts]
            else:
                stem = stem.replace("，", "， ", 1)
        if "explanation" in ks:
            explanation = "" if rng.random() < 0.5 else "%s：%s。" % (
                tp.topic, tp.short.format_map(vmap))
        if image is not None:
            if "image_drop" in ks:
                image = None
            elif "image_url" in ks:
                host, ext = IMG_HOSTS[1 + int(rng.random() * (len(IMG_HOSTS) - 1))]
                image = host + image + ext
            else:
                image = IMG_HOSTS[0][0] + image + IMG_HOSTS[0][1]
        cat = CAT_ALT[tp.cat] if "category" in ks else tp.cat
        rec = {"id": idx, "question": stem, "options": opts, "answer": answer,
               "explanation": explanation, "image": image, "type": typ, "category": cat}
        if role == 2:
            kinds = ["hn"] + kinds
        elif role == 3:
            kinds = ["conflict"] + kinds
        return rec, ",".join(kinds)


# --------------------------------------------------------------------------- planning
TYPE_WEIGHT = {"judge": 1.0, "single": 1.6, "multi": 1.0}


def quotas(n_base, caps, weights):
    """Weighted water-filling: shares by weight, each template capped."""
    q = [0] * len(caps)
    remaining = n_base
    active = [i for i in range(len(caps)) if caps[i] > 0]
    while remaining > 0 and active:
        wsum = sum(weights[i] for i in active)
        nxt = []
        rem0 = remaining
        for i in active:
            share = max(1, int(rem0 * weights[i] / wsum))
            give = min(share, caps[i] - q[i], remaining)
            q[i] += give
            remaining -= give
            if q[i] < caps[i]:
                nxt.append(i)
            if remaining == 0:
                break
        active = nxt
    if remaining:
        raise SystemExit("gen_corpus: --n too large for the template space (max base questions %d)"
                         % sum(caps))
    return q


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, required=True, help="number of records")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True, help="corpus file ('-' for stdout)")
    ap.add_argument("--labels", required=True, help="labels file")
    ap.add_argument("--format", choices=["array", "jsonl"], default="array")
    ap.add_argument("--dup-rate", type=float, default=0.3,
                    help="fraction of records that are extra copies (variants) of a base question")
    ap.add_argument("--hardneg-rate", type=float, default=0.1,
                    help="fraction of records that are hard negatives of a base question")
    ap.add_argument("--conflict-rate", type=float, default=0.01,
                    help="fraction of records that are duplicates with a conflicting answer")
    ap.add_argument("--max-variants", type=int, default=5, help="most variant kinds on one copy")
    ap.add_argument("--no-kinds", action="store_true", help="leave the per-record kinds out of labels")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    if a.n < 1:
        ap.error("--n must be >= 1")
    for name in ("dup_rate", "hardneg_rate", "conflict_rate"):
        if not 0 <= getattr(a, name) < 1:
            ap.error("--%s must be in [0, 1)" % name.replace("_", "-"))
    t0 = time.time()
    rng = random.Random(a.seed)
    N = a.n
    n_dup = int(round(N * a.dup_rate))
    n_hn = int(round(N * a.hardneg_rate))
    n_conf = int(round(N * a.conflict_rate))
    n_base = N - n_dup - n_hn - n_conf
    if n_base < 1:
        ap.error("rates leave no base questions")
    if n_conf > n_base:
        n_dup += n_conf - n_base
        n_conf = n_base

    # base questions: per template, an affine permutation of its key space
    caps = [max(1, tp.space // 2) for tp in T]
    q = quotas(n_base, caps, [TYPE_WEIGHT[tp.typ] for tp in T])
    aff = []
    off = []
    o = 0
    for tp, qt in zip(T, q):
        S = tp.space
        am = rng.randrange(1, S) if S > 1 else 1
        while math.gcd(am, S) != 1:
            am += 1
        b = rng.randrange(S)
        aff.append((am, b, pow(am, -1, S) if S > 1 else 1))
        off.append(o)
        o += qt

    p_t = []
    p_key = []
    for ti, qt in enumerate(q):
        am, b, _ = aff[ti]
        S = T[ti].space
        p_t.extend([ti] * qt)
        p_key.extend([(am * j + b) % S for j in range(qt)])
    p_mod = [0] * n_base
    p_role = [0] * n_base
    p_cl = list(range(n_base))

    def base_of(ti, key):
        am, b, ainv = aff[ti]
        j = ((key - b) * ainv) % T[ti].space
        return off[ti] + j if j < q[ti] else -1

    # duplicates: mostly uniform (pairs), some popular questions get more copies
    popular = max(1, n_base // 100)
    for _ in range(n_dup):
        bi = int(rng.random() * popular) if rng.random() < 0.08 else int(rng.random() * n_base)
        p_t.append(p_t[bi])
        p_key.append(p_key[bi])
        p_mod.append(0)
        p_role.append(1)
        p_cl.append(bi)
    # conflicts: at most one per cluster
    conf_pairs = []
    for bi in rng.sample(range(n_base), n_conf):
        conf_pairs.append((bi, len(p_t)))
        p_t.append(p_t[bi])
        p_key.append(p_key[bi])
        p_mod.append(0)
        p_role.append(3)
        p_cl.append(bi)
    # hard negatives
    kind_tpls = {}
    for k in HN_KINDS:
        ts = [ti for ti, tp in enumerate(T) if q[ti] > 0 and k in tp.hn_kinds()]
        kind_tpls[k] = (ts, [q[ti] for ti in ts])
    extra = {}
    next_cl = n_base
    hn_pairs = []
    cum_w = [sum(HN_WEIGHT[:i + 1]) for i in range(len(HN_WEIGHT))]
    made = 0
    attempts = 0
    while made < n_hn:
        attempts += 1
        if attempts > 50 * n_hn + 1000:
            raise SystemExit("gen_corpus: cannot place hard negatives")
        x = rng.random() * cum_w[-1]
        kind = HN_KINDS[next(i for i, c in enumerate(cum_w) if x < c)]
        ts, ws = kind_tpls[kind]
        if not ts:
            continue
        ti = rng.choices(ts, ws)[0]
        tp = T[ti]
        bi = off[ti] + int(rng.random() * q[ti])
        key = p_key[bi]
        mod = 0
        if kind == "option":
            h = mix(key * 131 + tp.tid * 7919 + 17)
            opts, correct, pool = tp.choice(tp.decode(key), key, h)
            wrong = [i for i in range(len(opts)) if i not in correct]
            cand = [j for j, v in enumerate(pool) if v not in opts]
            if not wrong or not cand:
                continue
            pos = wrong[int(rng.random() * len(wrong))]
            r = cand[int(rng.random() * len(cand))]
            mod = 1 + (pos << 20) + r
            ck = (ti, key, mod)
            cl = extra.get(ck)
            if cl is None:
                cl = extra[ck] = next_cl
                next_cl += 1
        else:
            role = {"number": ROLE_NUMBER, "negation": ROLE_NEG, "swap": ROLE_SWAP,
                    "image": ROLE_IMAGE}[kind]
            slots = tp.role_slots[role]
            s = slots[int(rng.random() * len(slots))]
            ix = tp.decode(key)
            old = ix[s]
            if role in (ROLE_NEG, ROLE_SWAP):
                new = old ^ 1
                if new >= tp.sizes[s]:
                    continue
            elif role == ROLE_IMAGE and rng.random() < 0.5:
                # a neighbouring image: for signs, usually one of the same family
                d = 1 + int(rng.random() * 3)
                new = old + d if (rng.random() < 0.5 or old - d < 0) and old + d < tp.sizes[s] \
                    else old - d
                if not 0 <= new < tp.sizes[s]:
                    continue
            else:
                new = int(rng.random() * (tp.sizes[s] - 1))
                if new >= old:
                    new += 1
            nkey = key + (new - old) * tp.strides[s]
            key = nkey
            cl = base_of(ti, key)
            if cl < 0:
                ck = (ti, key, 0)
                cl = extra.get(ck)
                if cl is None:
                    cl = extra[ck] = next_cl
                    next_cl += 1
        hn_pairs.append((bi, len(p_t), kind))
        p_t.append(ti)
        p_key.append(key)
        p_mod.append(mod)
        p_role.append(2)
        p_cl.append(cl)
        made += 1
    assert len(p_t) == N
    t_plan = time.time() - t0

    perm = list(range(N))
    rng.shuffle(perm)       # output position -> plan index
    inv = [0] * N
    for pos, pi in enumerate(perm):
        inv[pi] = pos

    R = Renderer(rng)
    enc = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    kinds_out = {}
    out = sys.stdout if a.out == "-" else open(a.out, "w", encoding="utf-8", newline="\n")
    arr = a.format == "array"
    buf = []
    if arr:
        out.write("[\n")
    for pos in range(N):
        pi = perm[pos]
        ti = p_t[pi]
        rec, ks = R.render(pos, T[ti], p_key[pi], p_mod[pi], p_role[pi], a.max_variants)
        if ks:
            kinds_out[pos] = ks
        line = enc(rec)
        if arr:
            buf.append(line + (",\n" if pos < N - 1 else "\n"))
        else:
            buf.append(line + "\n")
        if len(buf) >= 4096:
            out.write("".join(buf))
            buf = []
    out.write("".join(buf))
    if arr:
        out.write("]\n")
    if out is not sys.stdout:
        out.close()

    counts = {"records": N, "base": n_base, "dup": n_dup, "hard_negative": n_hn,
              "conflict": n_conf, "gold_clusters": len(set(p_cl))}
    hk = {}
    for _, _, k in hn_pairs:
        hk[k] = hk.get(k, 0) + 1
    counts["hard_negative_kinds"] = hk
    labels = {
        "seed": a.seed, "n": N,
        "generator": "benchmarks/gen_corpus.py",
        "dup_rate": a.dup_rate, "hardneg_rate": a.hardneg_rate, "conflict_rate": a.conflict_rate,
        "counts": counts,
        "variant_kinds": VARIANT_KINDS, "hardneg_kinds": HN_KINDS,
        "cluster": [p_cl[perm[pos]] for pos in range(N)],
        "hard_negatives": [{"a": inv[x], "b": inv[y], "kind": k} for x, y, k in hn_pairs],
        "conflicts": [{"a": inv[x], "b": inv[y]} for x, y in conf_pairs],
    }
    if not a.no_kinds:
        labels["kinds"] = {str(k): v for k, v in kinds_out.items()}
    with open(a.labels, "w", encoding="utf-8") as f:
        f.write(json.dumps(labels, ensure_ascii=False, separators=(",", ":")))
        f.write("\n")
    dt = time.time() - t0
    if not a.quiet:
        sys.stderr.write("gen_corpus: %d records (%d base, %d dup, %d hard negatives, %d conflicts) "
                         "in %.1f s (plan %.1f s), %.0f records/s\n"
                         % (N, n_base, n_dup, n_hn, n_conf, dt, t_plan, N / dt if dt else 0))
    return 0


if __name__ == "__main__":
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # quiet exit under `| head`
    sys.exit(main())
