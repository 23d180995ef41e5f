"""Word pools and shares the demo draws from: names, brands, industry words, IP titles, profiles."""

#: Common surnames, Guangxi ones (韦, 覃, 蒙, 莫, 农, 蓝) included; (character, pinyin, weight).
SURNAMES = (
    ("黄", "huang", 9), ("李", "li", 8), ("陈", "chen", 7), ("梁", "liang", 6), ("韦", "wei", 6),
    ("刘", "liu", 6), ("张", "zhang", 6), ("王", "wang", 6), ("覃", "qin", 4), ("莫", "mo", 4),
    ("蒙", "meng", 3), ("罗", "luo", 4), ("杨", "yang", 4), ("林", "lin", 4), ("何", "he", 4),
    ("吴", "wu", 3), ("周", "zhou", 3), ("谢", "xie", 3), ("邓", "deng", 3), ("陆", "lu", 3),
    ("廖", "liao", 3), ("唐", "tang", 3), ("赵", "zhao", 2), ("徐", "xu", 2), ("孙", "sun", 2),
    ("马", "ma", 2), ("朱", "zhu", 2), ("胡", "hu", 2), ("郭", "guo", 2), ("冯", "feng", 2),
    ("苏", "su", 2), ("曾", "zeng", 2), ("潘", "pan", 2), ("钟", "zhong", 2), ("农", "nong", 2),
    ("蓝", "lan", 1), ("甘", "gan", 1), ("龙", "long", 2), ("黎", "li", 2), ("蔡", "cai", 1),
    ("余", "yu", 1), ("叶", "ye", 1), ("谭", "tan", 2), ("欧", "ou", 1), ("卢", "lu", 2),
)  # fmt: skip
GIVEN_CHARS = (
    ("伟", "wei"), ("芳", "fang"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("强", "qiang"),
    ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"), ("杰", "jie"),
    ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀", "xiu"), ("霞", "xia"),
    ("平", "ping"), ("刚", "gang"), ("桂", "gui"), ("英", "ying"), ("华", "hua"), ("建", "jian"),
    ("文", "wen"), ("辉", "hui"), ("鹏", "peng"), ("宇", "yu"), ("浩", "hao"), ("凯", "kai"),
    ("婷", "ting"), ("雪", "xue"), ("琳", "lin"), ("晨", "chen"), ("思", "si"), ("振", "zhen"),
    ("国", "guo"), ("志", "zhi"), ("海", "hai"), ("峰", "feng"), ("斌", "bin"), ("春", "chun"),
    ("红", "hong"), ("梅", "mei"), ("玲", "ling"), ("丹", "dan"), ("燕", "yan"), ("荣", "rong"),
    ("新", "xin"), ("俊", "jun"), ("云", "yun"), ("东", "dong"), ("德", "de"), ("福", "fu"),
    ("永", "yong"), ("光", "guang"), ("宁", "ning"), ("佳", "jia"), ("欣", "xin"), ("嘉", "jia"),
    ("昊", "hao"), ("睿", "rui"), ("泽", "ze"), ("晓", "xiao"), ("金", "jin"), ("玉", "yu"),
    ("秋", "qiu"), ("立", "li"), ("成", "cheng"), ("卫", "wei"), ("翠", "cui"), ("兰", "lan"),
)  # fmt: skip
BRANDS = (
    ("鸿图", "hongtu"), ("瑞丰", "ruifeng"), ("金桂", "jingui"), ("华晟", "huasheng"),
    ("创源", "chuangyuan"), ("恒泰", "hengtai"), ("博瑞", "borui"), ("睿智", "ruizhi"),
    ("天成", "tiancheng"), ("汇通", "huitong"), ("新宇", "xinyu"), ("嘉禾", "jiahe"),
    ("宏达", "hongda"), ("聚能", "juneng"), ("康源", "kangyuan"), ("绿源", "lvyuan"),
    ("西江", "xijiang"), ("桂东", "guidong"), ("鑫隆", "xinlong"), ("正和", "zhenghe"),
    ("德润", "derun"), ("卓越", "zhuoyue"), ("科盛", "kesheng"), ("华兴", "huaxing"),
    ("腾飞", "tengfei"), ("同创", "tongchuang"), ("精工", "jinggong"), ("启明", "qiming"),
    ("星辉", "xinghui"), ("远航", "yuanhang"), ("海川", "haichuan"), ("宝鼎", "baoding"),
    ("安泰", "antai"), ("弘毅", "hongyi"), ("晶石", "jingshi"), ("骏业", "junye"),
    ("长青", "changqing"), ("锦程", "jincheng"), ("明阳", "mingyang"), ("永信", "yongxin"),
    ("泰和", "taihe"), ("金穗", "jinsui"), ("瑞康", "ruikang"), ("益众", "yizhong"),
    ("通达", "tongda"), ("凯创", "kaichuang"), ("森源", "senyuan"), ("华洋", "huayang"),
    ("信达", "xinda"), ("东瑞", "dongrui"), ("中恒", "zhongheng"), ("广源", "guangyuan"),
    ("宏远", "hongyuan"), ("盛达", "shengda"), ("联创", "lianchuang"), ("恒源", "hengyuan"),
    ("万通", "wantong"), ("华锐", "huarui"), ("普惠", "puhui"), ("天泽", "tianze"),
    ("银河", "yinhe"), ("金鹰", "jinying"), ("富华", "fuhua"), ("兴桂", "xinggui"),
    ("南方", "nanfang"), ("瑞达", "ruida"), ("祥和", "xianghe"), ("昌盛", "changsheng"),
    ("丰源", "fengyuan"), ("合众", "hezhong"), ("巨鑫", "juxin"), ("开元", "kaiyuan"),
    ("龙腾", "longteng"), ("润德", "runde"), ("新锐", "xinrui"), ("智联", "zhilian"),
    ("云帆", "yunfan"), ("蓝海", "lanhai"), ("青山", "qingshan"), ("绿洲", "lvzhou"),
    ("和顺", "heshun"), ("先锋", "xianfeng"), ("翔宇", "xiangyu"), ("旭日", "xuri"),
    ("亿达", "yida"), ("众诚", "zhongcheng"), ("金石", "jinshi"), ("冠华", "guanhua"),
    ("耀华", "yaohua"), ("利民", "limin"), ("时代", "shidai"), ("世纪", "shiji"),
    ("新光", "xinguang"), ("广润", "guangrun"), ("美嘉", "meijia"), ("汉源", "hanyuan"),
    ("力拓", "lituo"), ("思源", "siyuan"), ("致远", "zhiyuan"), ("骏驰", "junchi"),
    ("中桂", "zhonggui"), ("三和", "sanhe"), ("大地", "dadi"), ("远景", "yuanjing"),
)  # fmt: skip

#: Industry words of company names: (word, weight, ((tech field code, industry name), ...)).
COMMON_WORDS = (
    ("科技", 10, (("electronic_info", "电子信息"), ("hightech_services", "高技术服务"),
                  ("advanced_manufacturing", "先进制造与自动化"))),
    ("电子", 5, (("electronic_info", "电子信息"),)),
    ("电子科技", 4, (("electronic_info", "电子信息"),)),
    ("信息技术", 4, (("electronic_info", "电子信息"),)),
    ("新材料", 6, (("new_materials", "新材料"),)),
    ("生物医药", 4, (("biomedicine", "生物与新医药"),)),
    ("生物科技", 4, (("biomedicine", "生物与新医药"),)),
    ("智能装备", 5, (("advanced_manufacturing", "先进制造与自动化"),)),
    ("自动化设备", 2, (("advanced_manufacturing", "先进制造与自动化"),)),
    ("环保科技", 5, (("resources_environment", "资源与环境"),)),
    ("新能源", 3, (("new_energy", "新能源与节能"),)),
    ("节能科技", 2, (("new_energy", "新能源与节能"),)),
    ("检测技术", 2, (("hightech_services", "高技术服务"),)),
    ("航空科技", 1, (("aerospace", "航空航天"),)),
)  # fmt: skip
CITY_WORDS = {
    "wuzhou": (
        ("电子", 3, (("electronic_info", "电子信息"),)),
        ("新材料", 3, (("new_materials", "钛白化工"), ("new_materials", "有色金属"))),
        ("宝石", 3, (("new_materials", "人工宝石"),)),
        ("陶瓷", 2, (("new_materials", "陶瓷建材"),)),
        ("林化", 2, (("new_materials", "林产林化"),)),
        ("制药", 3, (("biomedicine", "医药制造"),)),
        ("食品科技", 2, (("biomedicine", "食品"),)),
        ("智能装备", 2, (("advanced_manufacturing", "船舶及机械制造"),)),
        ("船舶科技", 1, (("advanced_manufacturing", "船舶及机械制造"),)),
        ("不锈钢制品", 3, (("advanced_manufacturing", "不锈钢制品"),)),
        ("再生资源", 3, (("resources_environment", "再生资源"),)),
        ("纺织科技", 1, (("advanced_manufacturing", "纺织服装"),)),
    ),
    "baise": (
        ("信息技术", 3, (("electronic_info", "信息技术"),)),
        ("铝业", 4, (("new_materials", "生态铝"),)),
        ("新材料", 3, (("new_materials", "生态铝"), ("new_materials", "锰"))),
        ("锰业", 2, (("new_materials", "锰"),)),
        ("化工科技", 2, (("new_materials", "石化"),)),
        ("建材", 2, (("new_materials", "建材"),)),
        ("农业科技", 4, (("biomedicine", "现代农业"),)),
        ("生物医药", 2, (("biomedicine", "大健康"),)),
        ("环保科技", 3, (("resources_environment", "生态环保"),)),
        ("矿业科技", 1, (("resources_environment", "煤炭"),)),
    ),
}
INCUBATOR_WORD = ("科技企业孵化器", (("hightech_services", "高技术服务"),))
ROADS = (
    "工业大道", "创业大道", "科技路", "兴业路", "富民路", "园区一路", "园区二路", "园区三路",
    "迎宾大道", "建设路", "人民路", "环城路", "站前路", "滨江路", "新兴路", "振兴路", "创新路",
    "民主路", "光明路", "朝阳路",
)  # fmt: skip
MOBILE_PREFIXES = ("138", "139", "137", "136", "135", "150", "151", "152", "158", "159",
                   "177", "180", "181", "186", "187", "188", "189", "199")  # fmt: skip

#: Words for IP titles by technology field: (invention objects, devices, software, products).
IP_WORDS = {
    "electronic_info": (
        (
            "物联网数据采集终端",
            "低功耗无线传感节点",
            "LED驱动电源",
            "智能电表",
            "柔性电路板",
            "工业视觉检测系统",
            "北斗定位终端",
            "射频识别标签",
        ),
        ("电路板固定装置", "散热型电源适配器", "智能电表接线盒", "线缆收纳装置", "信号屏蔽箱"),
        ("智慧园区综合管理平台", "生产数据采集系统", "设备远程监控软件", "智能仓储管理系统"),
        ("智能终端", "控制面板", "显示屏外壳"),
    ),
    "biomedicine": (
        (
            "罗汉果提取物",
            "中药复方制剂",
            "六堡茶发酵菌剂",
            "三七总皂苷",
            "芒果果脯",
            "植物多糖",
            "益生菌发酵饮料",
            "桂郁金提取物",
        ),
        ("药材烘干装置", "发酵罐温控装置", "中药饮片切片机", "提取罐冷凝回收装置"),
        ("药品生产质量追溯系统", "GMP文件管理系统", "冷链温度监测软件"),
        ("包装盒（茶叶）", "药品包装瓶", "礼品盒（果脯）"),
    ),
    "aerospace": (
        ("无人机避障系统", "航空复合材料构件", "机载数据记录装置"),
        ("无人机起落架", "无人机折叠机臂", "航测云台"),
        ("无人机航测数据处理软件", "飞行任务规划系统"),
        ("无人机", "遥控器"),
    ),
    "new_materials": (
        (
            "高纯钛白粉",
            "人造宝石",
            "高性能铝合金",
            "电解锰渣",
            "松香改性树脂",
            "陶瓷釉料",
            "稀土抛光粉",
            "锆宝石",
        ),
        ("陶瓷坯体成型模具", "宝石切割夹具", "铝锭浇铸装置", "粉体输送装置"),
        ("材料配方管理系统", "窑炉温度控制软件", "质量检测数据管理系统"),
        ("瓷砖（仿古）", "宝石吊坠", "铝型材截面"),
    ),
    "hightech_services": (
        ("检测样品", "水质快速检测试剂", "土壤重金属检测", "技术成果评价模型"),
        ("样品前处理装置", "检测试剂盒", "移动检测箱"),
        ("检验检测实验室信息管理系统", "科技成果转化服务平台", "企业孵化服务管理平台"),
        ("检测仪外壳", "标识牌"),
    ),
    "new_energy": (
        ("光伏组件", "余热回收利用系统", "储能电池管理系统", "生物质颗粒燃料"),
        ("储能电池箱", "光伏支架", "节能照明灯具", "换热器"),
        ("能耗在线监测系统", "光伏电站运维平台"),
        ("充电桩", "路灯灯头"),
    ),
    "resources_environment": (
        ("废旧动力电池", "再生铜", "污水处理复合絮凝剂", "赤泥", "废旧塑料再生颗粒"),
        ("废气净化塔", "固废破碎装置", "污泥脱水机", "除尘装置"),
        ("环境监测数据管理平台", "危废转移管理系统"),
        ("垃圾分类箱", "净水器"),
    ),
    "advanced_manufacturing": (
        ("不锈钢餐具", "船体分段", "数控机床刀具", "液压启闭机", "松脂蒸馏设备", "纺纱机"),
        ("自动上料装置", "工件夹持机构", "焊接定位工装", "输送辊道", "抛光装置"),
        ("设备运维管理系统", "生产制造执行系统", "数控加工仿真软件"),
        ("不锈钢锅", "保温杯", "刀具手柄"),
    ),
}
INVENTION_SUFFIXES = ("的制备方法", "及其制备方法", "的检测方法", "的控制方法", "的生产工艺",
                      "的加工方法", "及其应用")  # fmt: skip

PROFILES = ("strong", "near", "mid", "far", "young")
PROFILE_SHARES = {"strong": 0.25, "near": 0.25, "mid": 0.26, "far": 0.20, "young": 0.04}
#: What a firm "just short" of certification misses; spread over the near firms in turn.
NEAR_MISSES = ("rd", "staff", "hightech", "ip")
