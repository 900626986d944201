"""Name and address parts for demo customers: Chinese names with pinyin, English names, real cities.

Kept as Python tuples (not YAML) because they are read-only lookup tables
the generator indexes with a seeded random number generator.
"""

SURNAMES = (
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"),
    ("黄", "Huang"), ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"), ("徐", "Xu"), ("孙", "Sun"),
    ("马", "Ma"), ("朱", "Zhu"), ("胡", "Hu"), ("郭", "Guo"), ("何", "He"), ("高", "Gao"),
    ("林", "Lin"), ("罗", "Luo"), ("郑", "Zheng"), ("梁", "Liang"), ("谢", "Xie"), ("宋", "Song"),
    ("唐", "Tang"), ("许", "Xu"), ("韩", "Han"), ("冯", "Feng"), ("邓", "Deng"), ("曹", "Cao"),
)

GIVEN_NAMES = (
    ("伟", "Wei"), ("芳", "Fang"), ("娜", "Na"), ("秀英", "Xiuying"), ("敏", "Min"), ("静", "Jing"),
    ("丽", "Li"), ("强", "Qiang"), ("磊", "Lei"), ("军", "Jun"), ("洋", "Yang"), ("勇", "Yong"),
    ("艳", "Yan"), ("杰", "Jie"), ("娟", "Juan"), ("涛", "Tao"), ("明", "Ming"), ("超", "Chao"),
    ("秀兰", "Xiulan"), ("霞", "Xia"), ("平", "Ping"), ("刚", "Gang"), ("桂英", "Guiying"), ("建华", "Jianhua"),
    ("玉兰", "Yulan"), ("志强", "Zhiqiang"), ("婷婷", "Tingting"), ("浩然", "Haoran"), ("子涵", "Zihan"),
    ("淑珍", "Shuzhen"), ("国庆", "Guoqing"), ("海燕", "Haiyan"), ("晓东", "Xiaodong"), ("雪梅", "Xuemei"),
)

ENGLISH_FIRST = (
    "James", "Mary", "Michael", "Sarah", "David", "Emma", "Daniel", "Olivia", "Thomas", "Sophie",
    "Robert", "Linda", "Peter", "Grace", "Andrew", "Helen",
)
ENGLISH_LAST = ("Smith", "Brown", "Wilson", "Taylor", "Johnson", "Miller", "Clarke", "Walker", "Evans", "Martin")

#: (province, city, area code, postcode prefix, districts, streets)
CITIES = (
    ("上海市", "上海市", "21", "200", ("浦东新区", "徐汇区", "静安区", "闵行区"), ("世纪大道", "漕溪北路", "南京西路", "七莘路")),
    ("北京市", "北京市", "10", "100", ("朝阳区", "海淀区", "西城区", "丰台区"), ("建国路", "中关村大街", "西直门外大街", "南三环西路")),
    ("广东省", "广州市", "20", "510", ("天河区", "越秀区", "海珠区", "白云区"), ("天河路", "中山五路", "江南大道", "机场路")),
    ("广东省", "深圳市", "755", "518", ("南山区", "福田区", "罗湖区", "宝安区"), ("科技园路", "深南大道", "人民南路", "宝安大道")),
    ("浙江省", "杭州市", "571", "310", ("西湖区", "上城区", "拱墅区", "滨江区"), ("文三路", "解放路", "莫干山路", "江南大道")),
    ("江苏省", "南京市", "25", "210", ("玄武区", "鼓楼区", "秦淮区", "建邺区"), ("中山路", "北京西路", "太平南路", "江东中路")),
    ("湖南省", "长沙市", "731", "410", ("岳麓区", "芙蓉区", "天心区", "开福区"), ("麓山路", "五一大道", "劳动西路", "湘江中路")),
    ("四川省", "成都市", "28", "610", ("武侯区", "锦江区", "青羊区", "成华区"), ("人民南路", "春熙路", "光华大道", "建设路")),
    ("湖北省", "武汉市", "27", "430", ("江汉区", "武昌区", "洪山区", "江岸区"), ("解放大道", "中南路", "珞喻路", "沿江大道")),
    ("山东省", "济南市", "531", "250", ("历下区", "市中区", "槐荫区", "天桥区"), ("泉城路", "经十路", "纬二路", "北园大街")),
)

#: Mobile prefixes every Chinese network hands out (all valid for phonenumbers' CN metadata).
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156",
    "157", "158", "159", "166", "176", "177", "178", "180", "181", "182", "183", "185", "186", "187", "188",
    "189", "191", "198", "199",
)

TAGS = (
    "电视购物老客户", "高价值", "喜欢厨具", "关注健康", "珠宝爱好者", "价格敏感", "偏好货到付款",
    "夜间来电", "需要发票", "老年客户", "english_speaker", "promotion_responder",
)

BLACKLIST_REASONS = (
    "多次恶意拒收货到付款订单",
    "辱骂客服人员",
    "频繁骚扰来电，无购买意向",
    "冒用他人身份下单",
)
