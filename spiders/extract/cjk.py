"""Names written in Chinese, Japanese or Korean script, which word lists of given names miss.

Korean and Chinese names are written without spaces: a common family name and one or two
given-name syllables. Only three characters pass on their own: two-character words that begin
like a family name ("정보", information; "方法", method) are too common in headings; in a
template's name slot they pass too.
"""
from __future__ import annotations

import re

__all__ = ["CJK_THEN_LATIN", "LATIN_THEN_CJK", "keys_disagree", "is_cjk_name", "is_short_cjk_name"]

_KOREAN_SURNAMES = set("김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진나지엄채원천방공현함변염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉")
_CHINESE_SURNAMES = set("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤張劉陳楊黃趙吳孫馬鄭謝許韓馮鄧蕭葉蘇呂盧鍾譚陸賈韋鄒龍賀顧龔錢湯")
# more family names, leaving out those that also start common words (文 国 东 公 家 和 明 ...)
_CHINESE_SURNAMES |= set("乔于居舒符蓝柳倪聂甘祝童岳齐翟耿殷骆凌詹臧牛裴俞邢鲁葛柴洪穆瞿冉阎谷庞兰代危饶骈章邬邝卜滕房"
                         "焦项柯车刁尚屈管卓蔺苗霍艾季阮奚毕闵解晏桂储鲍费褚戚伍卞湛祁禹纪席娄颜梅盛樊虞昝缪荀靳邴巫侯"
                         "仇栾厉戎束幸郜蒲邰鄂赖屠蒙池胥逄姬冀浦晁阚鞠蒯荆逯喬於藍聶嶽齊殷駱淩臧裴魯葛瞿閻龐蘭饒鄔鄺"
                         "滕項車藺蘇閔鮑費褚戚伍祁禹紀婁顏樊虞繆靳厲蒲賴蒙鞠荊")
_CHINESE_SURNAMES |= set("漆")
# two-character family names: 欧阳涛 is family name 欧阳 + given name 涛
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
                      "夏侯", "歐陽", "諸葛", "東方", "長孫")
_HANGUL = re.compile(r"^[\uac00-\ud7a3]{3}$")
_HAN = re.compile(r"^[\u4e00-\u9fff]{3}$")


_CJK_NOT_NAMES = frozenset("""정보학 연구실 연구소 연구원 연구진 연구팀 공지사항 오시는 안내문 소개글 전공자 졸업생 대학원 학부생
    방문자 연락처 조교수 부교수 정교수 교수님 명예교수 연구교수 겸임교수 초빙교수 박사후 석사과정 박사과정 方法论 研究所 研究生 研究员 实验室 教研室 办公室 联系我
    简介页 高级工 金融学 石油学 林业局 王牌军 张贴栏 周一至 陈列馆""".split())


def is_cjk_name(text: str) -> bool:
    s = text.strip()
    if s in _CJK_NOT_NAMES:
        return False
    if re.fullmatch(r"[\u4e00-\u9fff]{3,4}", s) and s.startswith(_COMPOUND_SURNAMES):
        return True
    return bool((_HANGUL.match(s) and s[0] in _KOREAN_SURNAMES) or (_HAN.match(s) and s[0] in _CHINESE_SURNAMES))


# a name written twice on one line, in CJK script and then in Latin script ("段 逸均 Yijun Duan")
CJK_THEN_LATIN = re.compile(r"^[\u4e00-\u9fff\u3040-\u30ff\uac00-\ud7a3]{1,4}"
                             r"(?:\s[\u4e00-\u9fff\u3040-\u30ff\uac00-\ud7a3]{1,4})?\s+(?P<latin>[^\u3000-\u9fff].*)$")

# the same, the Latin name first and the CJK one in brackets ("Jihong Guan (关佶红)")
LATIN_THEN_CJK = re.compile(r"^(?P<latin>[^\u3000-\u9fff()（）]+?)\s*[(（][\u4e00-\u9fff\u3040-\u30ff\uac00-\ud7a3]"
                            r"{1,4}(?:\s[\u4e00-\u9fff\u3040-\u30ff\uac00-\ud7a3]{1,4})?[)）]$")


_CJK_CHAR = re.compile(r"[\u4e00-\u9fff\u3040-\u30ff\uac00-\ud7a3]")


def keys_disagree(a: str | None, b: str | None) -> bool:
    """Two name keys name different people. A key in CJK script and one in Latin script cannot be
    compared (an alt "deng-xiaoheng.jpg" transliterates the heading "邓晓衡")."""
    if not a or not b or a == b:
        return False
    return bool(_CJK_CHAR.search(a)) == bool(_CJK_CHAR.search(b))


def is_short_cjk_name(text: str) -> bool | None:
    """For 2-4 Hangul or Han characters: whether they are a name (family name first); else None."""
    if not re.fullmatch(r"[\uac00-\ud7a3]{2,4}|[\u4e00-\u9fff]{2,4}", text):
        return None
    return (text[0] in _KOREAN_SURNAMES or text[0] in _CHINESE_SURNAMES) and text not in _CJK_NOT_NAMES
