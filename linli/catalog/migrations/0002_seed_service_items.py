"""Seed the 办事指南 with 70 items named in the source articles and usual for a community service center.

Self-contained (the data and the pinyin key function are frozen here). Re-running is harmless: rows are
matched by code and only created when missing; reversing deletes only the codes created here that no
station menu uses.
"""

from django.db import migrations

GOV, CONV, FEAT, WELF = "government", "convenience", "featured", "welfare"


def item(code, name, category, department, keywords, summary, conditions="", materials=(), steps=(),
         legal=None, promised=None, fee="不收费", universal=False, online=False, online_note="",
         agency=False, appointment=False, basic=False, faqs=(), legal_basis=""):
    return {
        "code": code, "name": name, "category": category, "department": department, "keywords": keywords,
        "summary": summary, "conditions": conditions, "materials": list(materials), "steps": list(steps),
        "legal_days": legal, "promised_days": promised, "fee": fee, "universal": universal, "online": online,
        "online_note": online_note, "agency_allowed": agency, "appointment_required": appointment,
        "basic": basic, "faqs": [{"q": q, "a": a} for q, a in faqs], "legal_basis": legal_basis,
    }


ID = "申请人居民身份证原件"
HUKOU = "居民户口簿"
WINDOW = "到社区党群服务中心综合窗口提交材料"
CHECK = "窗口人员核验材料,当场受理或一次性告知需补正的材料"
APP = "天府通办/政务服务网"

ITEMS = [
    # --- 政务服务: 卫生健康 -------------------------------------------------------------------
    item("ZW-WJ-001", "生育登记(准生证)", GOV, "区卫生健康局", "准生证,生育登记,生育服务证",
         "夫妻生育子女的登记服务,登记后可享受孕产期保健等服务。", "夫妻双方或一方户籍在本辖区,或在本辖区居住。",
         ["夫妻双方居民身份证", HUKOU, "结婚证"], [WINDOW, "填写《生育登记表》", "窗口即时登记并出具生育服务证"],
         legal=None, promised=0, universal=True, online=True, online_note=APP, agency=True, basic=True,
         faqs=[("没有结婚证能办吗?", "未婚生育可先咨询窗口,按现行政策办理相关登记。"),
               ("需要夫妻双方都到场吗?", "不需要,一方携带双方材料即可办理,也可网上办理。")],
         legal_basis="《中华人民共和国人口与计划生育法》"),
    item("ZW-WJ-002", "独生子女父母光荣证办理", GOV, "区卫生健康局", "独生子女证,光荣证,独生子女父母光荣证",
         "符合条件的独生子女父母申领光荣证,作为享受奖励扶助的凭证。", "只生育一个子女且承诺不再生育的夫妻。",
         ["夫妻双方居民身份证", HUKOU, "结婚证", "子女出生医学证明"], [WINDOW, "社区初审并公示", "街道审核发证"],
         legal=20, promised=10, universal=True, agency=True, basic=True),
    item("ZW-WJ-003", "计划生育家庭奖励扶助申请", GOV, "区卫生健康局", "奖励扶助,计生奖扶,特别扶助",
         "农村部分计划生育家庭奖励扶助及计划生育特殊家庭特别扶助的申请受理。", "年满60周岁的符合条件的计划生育家庭父母。",
         [ID, HUKOU, "独生子女父母光荣证或相关证明", "本人银行卡"], [WINDOW, "社区调查并张榜公示", "逐级审核后按年度发放"],
         legal=30, promised=20, agency=True, basic=True),
    # --- 政务服务: 医疗保障 -------------------------------------------------------------------
    item("ZW-YB-001", "城乡居民医疗保险参保登记与缴费审核", GOV, "区医疗保障局", "医保审核缴费,医保缴费,居民医保,参保",
         "未参加职工医保的城乡居民办理居民医保参保登记、缴费信息审核。", "本地户籍或持本地居住证、未参加职工医保的居民。",
         [ID, HUKOU], [WINDOW, "窗口核对参保信息", "通过银行或线上渠道缴费"],
         promised=0, universal=True, online=True, online_note="医保服务平台APP/天府市民云", agency=True, basic=True,
         faqs=[("每年什么时候缴费?", "集中缴费期一般为每年9月至12月,以当年通知为准。")],
         legal_basis="《中华人民共和国社会保险法》"),
    item("ZW-YB-002", "异地就医备案", GOV, "区医疗保障局", "异地就医,医保备案,异地备案",
         "参保人员跨省或省内异地就医前办理备案,就医时直接结算。", "已参加本地基本医疗保险的人员。",
         [ID, "异地居住或工作证明(部分类型需要)"], ["线上或到窗口提交备案申请", "即时办结"],
         promised=0, universal=True, online=True, online_note="国家医保服务平台APP", agency=True),
    item("ZW-YB-003", "门诊慢特病待遇认定申请", GOV, "区医疗保障局", "慢特病,慢性病,特殊门诊",
         "患有高血压、糖尿病等门诊慢特病的参保人申请待遇认定。", "参加本地基本医疗保险并确诊相关病种。",
         [ID, "病历、检查报告等诊断资料"], [WINDOW, "社区初审后报医保经办机构", "专家评审认定"],
         legal=30, promised=15, agency=True),
    # --- 政务服务: 社会保险 -------------------------------------------------------------------
    item("ZW-SB-001", "城乡居民养老保险参保登记及审核", GOV, "区人力资源和社会保障局", "养老保险审核,居民养老,城乡居民养老保险,社保",
         "年满16周岁、未参加职工养老保险的居民办理参保登记及缴费档次审核。", "年满16周岁(不含在校学生)、非国家机关和事业单位工作人员、未参加职工基本养老保险。",
         [ID, HUKOU], [WINDOW, "选择缴费档次", "审核后按年缴费"],
         promised=0, universal=True, online=True, online_note=APP, agency=True, basic=True,
         legal_basis="《中华人民共和国社会保险法》"),
    item("ZW-SB-002", "离退休人员指纹采集(待遇领取资格认证)", GOV, "区人力资源和社会保障局", "指纹采集,资格认证,生存认证,养老金认证",
         "领取养老金的离退休人员每年进行待遇领取资格认证,可现场指纹采集或手机刷脸。", "按月领取养老保险待遇的人员。",
         [ID], ["到社区党群服务中心采集指纹", "系统比对通过即完成认证"],
         promised=0, universal=True, online=True, online_note="掌上12333刷脸认证", agency=False, basic=True,
         faqs=[("行动不便怎么办?", "可申请工作人员上门采集,或由家属协助手机刷脸认证。"),
               ("多久认证一次?", "每12个月认证一次,逾期未认证将暂停发放待遇。")]),
    item("ZW-SB-003", "城乡居民养老保险待遇领取申请", GOV, "区人力资源和社会保障局", "领养老金,养老待遇,养老保险领取",
         "参保人年满60周岁、累计缴费满15年后申请按月领取养老金。", "年满60周岁且累计缴费满15年(或符合补缴条件)。",
         [ID, HUKOU, "本人社会保障卡"], [WINDOW, "审核缴费记录", "次月起按月发放"],
         legal=20, promised=10, universal=True, agency=True, basic=True),
    item("ZW-SB-004", "社会保障卡申领", GOV, "区人力资源和社会保障局", "社保卡,社保卡办理,电子社保卡",
         "首次申领第三代社会保障卡,可同时激活金融功能。", "参加社会保险的人员。",
         [ID, "近期免冠证件照(现场可拍)"], [WINDOW, "现场采集照片信息", "合作银行网点制卡"],
         promised=10, universal=True, online=True, online_note="电子社保卡/掌上12333", agency=True, basic=True),
    item("ZW-SB-005", "社会保障卡挂失与补换", GOV, "区人力资源和社会保障局", "社保卡挂失,社保卡补办,社保卡丢了",
         "社会保障卡遗失或损坏时办理挂失、补卡、换卡。", "已持有社会保障卡的人员。",
         [ID], ["电话或线上临时挂失", WINDOW, "合作银行即时制卡或10个工作日内制卡"],
         promised=10, universal=True, online=True, online_note="掌上12333", agency=True),
    item("ZW-SB-006", "灵活就业人员参保登记", GOV, "区人力资源和社会保障局", "灵活就业,个体参保,自由职业社保",
         "个体工商户和灵活就业人员参加职工基本养老、医疗保险登记。", "无雇工的个体工商户、未在用人单位参保的非全日制从业人员等。",
         [ID], [WINDOW, "核定缴费基数", "签订代扣协议"], promised=0, universal=True, online=True, online_note=APP),
    # --- 政务服务: 民政 -----------------------------------------------------------------------
    item("ZW-MZ-001", "最低生活保障(低保)申请", GOV, "区民政局", "低保,低保证,最低生活保障,最低生活保障金",
         "家庭人均收入低于当地低保标准且财产符合规定的家庭申请最低生活保障。",
         "共同生活的家庭成员人均收入低于当地城乡低保标准,且家庭财产状况符合规定。",
         ["申请人及家庭成员居民身份证、户口簿", "家庭收入及财产情况申报材料", "家庭经济状况核对授权书"],
         [WINDOW, "社区入户调查", "街道审核并张榜公示7天", "区民政局审批,次月发放"],
         legal=30, promised=20, agency=True, basic=True,
         faqs=[("在外地打工能申请吗?", "需在户籍地申请,可委托家人或社区代办。"),
               ("多久复核一次?", "一般每年复核,收入变化须主动申报。")],
         legal_basis="《社会救助暂行办法》"),
    item("ZW-MZ-002", "特困人员救助供养申请", GOV, "区民政局", "特困,五保,特困供养",
         "无劳动能力、无生活来源、无法定赡养抚养扶养义务人的老年人、残疾人和未成年人申请救助供养。",
         "同时具备无劳动能力、无生活来源、无法定义务人或其无履行能力。",
         [ID, HUKOU, "残疾证或相关医疗证明(如有)"], [WINDOW, "社区调查核实", "街道审核公示", "区民政局审批"],
         legal=30, promised=20, agency=True, basic=True, legal_basis="《社会救助暂行办法》"),
    item("ZW-MZ-003", "临时救助申请", GOV, "区民政局", "临时救助,急难救助,救急",
         "因火灾、交通事故、突发重病等导致基本生活暂时出现严重困难的家庭申请临时救助。", "遭遇急难、基本生活暂时困难的家庭或个人。",
         [ID, "困难情况说明及相关证明"], [WINDOW, "社区核实", "街道审批(急难情形先行救助)"],
         legal=20, promised=5, universal=True, agency=True, basic=True),
    item("ZW-MZ-004", "高龄津贴申请", GOV, "区民政局", "高龄补贴,高龄津贴,老年补贴,80岁补贴",
         "80周岁以上本地户籍老年人申领高龄津贴。", "本地户籍、年满80周岁。",
         [ID, HUKOU, "本人银行卡或社保卡"], [WINDOW, "社区审核", "按月发放"], legal=20, promised=10, agency=True, basic=True),
    item("ZW-MZ-005", "老年人优待证办理", GOV, "区民政局", "老年优待证,老年证,敬老卡",
         "60周岁以上老年人办理优待证,凭证享受乘车、游园等优待。", "年满60周岁的老年人(含常住本地的非本地户籍老人)。",
         [ID, "一寸免冠照片1张(现场可拍)"], [WINDOW, "信息录入", "制证后通知领取"],
         promised=5, universal=True, online=True, online_note=APP, agency=True, basic=True),
    item("ZW-MZ-006", "困难残疾人生活补贴和重度残疾人护理补贴申请", GOV, "区民政局", "两项补贴,残疾人补贴,护理补贴",
         "低保家庭中的残疾人申领生活补贴,一、二级重度残疾人申领护理补贴。", "持第二代残疾人证并符合相应条件。",
         [ID, "残疾人证", "银行卡"], [WINDOW, "社区初审", "街道审核", "区残联、民政局审定"], legal=30, promised=20, agency=True, basic=True),
    item("ZW-MZ-007", "居家养老服务补贴申请", GOV, "区民政局", "居家养老,养老补贴,养老服务补贴",
         "经济困难的高龄、失能老年人申请居家养老服务补贴。", "符合经济困难及能力评估条件的老年人。",
         [ID, HUKOU, "老年人能力评估结果"], [WINDOW, "能力评估", "审核后按月发放服务券"], legal=30, promised=20, agency=True),
    item("ZW-MZ-008", "惠民殡葬补贴申请", GOV, "区民政局", "殡葬补贴,丧葬补贴",
         "本地户籍居民去世后,家属申请基本殡葬服务费用减免或补贴。", "本地户籍居民死亡后火化。",
         ["死者居民身份证、户口簿", "火化证明", "经办人身份证"], [WINDOW, "审核后发放"], legal=20, promised=10, agency=True),
    item("ZW-MZ-009", "婚姻登记预约与材料预审", GOV, "区民政局", "结婚登记,离婚登记,婚姻登记",
         "社区窗口提供婚姻登记预约、材料预审,登记在区婚姻登记处办理。", "",
         ["双方居民身份证", "双方户口簿"], ["社区窗口或线上预约", "按预约时间到婚姻登记处办理"],
         promised=0, universal=True, online=True, online_note=APP),
    # --- 政务服务: 残联 -----------------------------------------------------------------------
    item("ZW-CL-001", "残疾人证办理(新办、换领、迁移)", GOV, "区残疾人联合会", "残疾证,残疾人证,办残疾证",
         "残疾人申请办理第二代残疾人证,或换领、迁移、挂失补办。", "符合残疾标准的本地户籍或常住居民。",
         [ID, HUKOU, "近期二寸免冠照片3张"], [WINDOW, "到指定医院进行残疾评定", "区残联审核发证"],
         legal=20, promised=15, universal=True, agency=True, basic=True,
         faqs=[("评定要自己去医院吗?", "需到指定医疗机构评定,行动不便者可申请上门评定。")]),
    # --- 政务服务: 公安户政 -------------------------------------------------------------------
    item("ZW-GA-001", "居住证申领", GOV, "区公安分局", "居住证,暂住证,办居住证",
         "离开常住户口所在地在本地居住半年以上的人员申领居住证。", "在本地居住半年以上,并有合法稳定就业、合法稳定住所或连续就读之一。",
         [ID, "近期免冠照片", "居住证明(租房合同或房产证明)", "就业或就读证明(之一)"], [WINDOW, "社区核实居住信息", "公安机关制证"],
         legal=15, promised=10, universal=True, online=True, online_note=APP, agency=True, basic=True,
         legal_basis="《居住证暂行条例》"),
    item("ZW-GA-002", "流动人口居住登记", GOV, "区公安分局", "居住登记,暂住登记,流动人口登记",
         "来本地居住的流动人口办理居住登记。", "离开户籍地来本地居住的人员。",
         [ID, "居住地址证明"], [WINDOW, "即时登记"], promised=0, universal=True, online=True, online_note=APP, basic=True),
    item("ZW-GA-003", "出生登记(新生儿落户)材料预审", GOV, "区公安分局", "新生儿落户,上户口,出生登记",
         "社区窗口预审新生儿落户材料,一次性告知,落户在派出所办理。", "",
         ["出生医学证明", "父母双方居民身份证、户口簿", "结婚证"], ["社区预审材料", "到户籍派出所办理落户"],
         promised=0, universal=True, online=True, online_note="出生一件事联办"),
    # --- 政务服务: 就业 -----------------------------------------------------------------------
    item("ZW-JY-001", "就业登记与失业登记", GOV, "区人力资源和社会保障局", "失业登记,就业登记,就业创业证",
         "劳动者办理就业、失业登记,领取就业创业证。", "法定劳动年龄内、有劳动能力和就业要求的人员。",
         [ID], [WINDOW, "即时登记"], promised=0, universal=True, online=True, online_note=APP, basic=True),
    item("ZW-JY-002", "就业困难人员认定", GOV, "区人力资源和社会保障局", "就业困难,就业援助,困难人员认定",
         "大龄失业、残疾、低保家庭等就业困难人员申请认定,享受就业援助。", "已办理失业登记并符合就业困难人员条件。",
         [ID, "就业创业证", "相关证明材料"], [WINDOW, "社区初审并公示", "区就业局认定"], legal=20, promised=15, agency=True),
    item("ZW-JY-003", "创业担保贷款申请受理", GOV, "区人力资源和社会保障局", "创业贷款,担保贷款,创业补贴",
         "符合条件的创业人员申请创业担保贷款及贴息。", "城镇登记失业人员、就业困难人员、返乡创业人员等。",
         [ID, "营业执照", "创业计划书"], [WINDOW, "审核推荐", "经办银行放款"], legal=30, promised=20),
    # --- 政务服务: 退役军人、党建、住房 ------------------------------------------------------
    item("ZW-TY-001", "退役军人优待证申领", GOV, "区退役军人事务局", "优待证,退役军人优待证,军人优待证",
         "退役军人和其他优抚对象申领优待证,凭证享受优待。", "退役军人及其他优抚对象。",
         [ID, "退役证明材料"], [WINDOW, "信息采集", "制证发放"], promised=20, agency=True),
    item("ZW-TY-002", "优抚对象抚恤补助申请", GOV, "区退役军人事务局", "抚恤,优抚补助,定补",
         "符合条件的优抚对象申请定期抚恤补助。", "残疾军人、烈士遗属、在乡老复员军人等优抚对象。",
         [ID, "优抚对象身份证明"], [WINDOW, "审核后按月发放"], legal=30, promised=20, agency=True),
    item("ZW-DJ-001", "党员组织关系转接", GOV, "街道党工委", "组织关系,转党关系,党员转接",
         "党员因工作、居住变动办理组织关系转入、转出。", "正式党员和预备党员。",
         ["党员组织关系介绍信或全国党员管理信息系统转接记录", ID], ["社区党组织受理", "街道党工委审核"], promised=5),
    item("ZW-DJ-002", "在职党员到社区报到", GOV, "街道党工委", "我是党员我报到,双报到,党员报到",
         "在职党员到居住地社区报到,认领服务岗位、参加志愿服务。", "在职党员。",
         [ID, "党员身份信息"], ["社区登记报到", "认领服务岗位"], promised=0, universal=True, online=True, online_note="线上报到小程序", basic=True),
    item("ZW-ZJ-001", "公共租赁住房申请受理", GOV, "区住房和城乡建设局", "公租房,廉租房,住房保障",
         "住房困难的低收入家庭和新就业无房职工申请公共租赁住房。", "家庭收入、住房状况符合当地保障标准。",
         [ID, HUKOU, "收入证明", "住房情况声明"], [WINDOW, "社区初审公示", "区住建局复核、轮候配租"], legal=30, promised=20, agency=True),
    # --- 便民服务 ------------------------------------------------------------------------------
    item("BM-001", "居住情况证明开具", CONV, "社区居民委员会", "居住证明,社区证明,开证明",
         "根据居民实际居住情况出具居住证明(仅限有关部门明确要求由社区出具的情形)。", "在本社区实际居住。",
         [ID, "需提交证明的单位要求说明"], ["窗口核实", "即时出具或入户核实后出具"], promised=0, basic=True),
    item("BM-002", "水电气费代缴", CONV, "社区党群服务中心", "缴费,水费,电费,燃气费,天然气费",
         "在驿站或中心的自助终端和窗口代缴水、电、燃气费。", "",
         ["缴费户号或缴费单"], ["提供户号", "现场缴费并打印凭证"], promised=0, universal=True, online=True, online_note="各公用事业APP", basic=True),
    item("BM-003", "社保医保缴费证明打印", CONV, "社区党群服务中心", "参保证明,缴费证明,打印社保",
         "打印个人社会保险参保缴费证明、医保缴费凭证。", "",
         [ID], ["自助终端或窗口打印"], promised=0, universal=True, online=True, online_note="掌上12333", basic=True),
    item("BM-004", "老年助餐登记", CONV, "社区党群服务中心", "助餐,老年食堂,长者食堂,老人吃饭",
         "60岁以上老人登记长者食堂就餐,高龄、困难老人享受餐费补贴。", "60周岁以上居民。",
         [ID], ["社区登记", "办理就餐卡"], promised=0, agency=True),
    item("BM-005", "小修小补工具借用", CONV, "社区党群服务中心", "工具借用,借工具,老虎钳,螺丝刀,小修小补",
         "免费借用老虎钳、螺丝刀、电钻等家庭常用维修工具。", "本社区居民。",
         [ID], ["登记借用", "按约定时间归还"], promised=0, basic=True,
         faqs=[("可以借多久?", "一般不超过3天,可续借一次。")]),
    item("BM-006", "修鞋配钥匙磨刀", CONV, "入驻经营主体", "修鞋,配钥匙,磨刀,低频刚需",
         "引进的经营主体在中心提供修鞋、配钥匙、磨刀等服务,价格公示。", "",
         [], ["现场办理"], promised=0, fee="按公示价格收费"),
    item("BM-007", "快递代收", CONV, "党群暖心驿站", "快递,代收,包裹",
         "驿站为上班族、老年人代收快递包裹。", "", [ID], ["登记", "凭取件码领取"], promised=0),
    item("BM-008", "爱心雨伞与充电借用", CONV, "党群暖心驿站", "借伞,充电,充电宝,雨伞",
         "免费借用雨伞、为手机充电。", "", [], ["现场登记借用"], promised=0),
    item("BM-009", "户外劳动者歇脚服务", CONV, "党群暖心驿站", "歇脚,喝水,热饭,户外劳动者,外卖骑手",
         "为环卫工人、快递员、外卖骑手等提供饮水、热饭、休息、如厕。", "", [], ["直接进站使用"], promised=0, universal=True),
    item("BM-010", "复印打印扫描", CONV, "社区党群服务中心", "复印,打印,扫描",
         "为办事群众免费复印、打印办事材料。", "", [], ["现场办理"], promised=0, universal=True, basic=True),
    item("BM-011", "政务服务自助终端办理", CONV, "区政务服务管理局", "自助机,自助办理,自助终端",
         "通过自助终端办理社保、医保、公积金查询打印等高频事项,工作人员现场指导。", "",
         [ID], ["刷身份证登录", "按提示办理"], promised=0, universal=True, online=True, online_note=APP, basic=True),
    item("BM-012", "物业代办服务", CONV, "社区党群服务中心", "物业,报修,物业代办,物业服务",
         "无物业小区或老旧小区居民的报修、物业事项由驿站代为对接办理。", "", [], ["登记需求", "驿站对接物业或维修单位", "回访"],
         promised=3, agency=True),
    item("BM-013", "民情信息收集", CONV, "社区党群服务中心", "反映问题,民情,诉求,意见建议",
         "收集居民意见建议和问题线索,按诉求流程交办并答复。", "", [], ["现场或线上登记", "转为诉求工单办理", "答复并回访"],
         promised=5, universal=True, online=True, online_note="本平台“我要反映”", basic=True),
    item("BM-014", "智能手机使用帮助", CONV, "社区党群服务中心", "智能手机,老年人手机,挂号,健康码,手机教学",
         "帮助老年人使用智能手机预约挂号、打车、视频通话、防范诈骗。", "", [], ["现场预约", "一对一指导"], promised=0),
    item("BM-015", "垃圾分类指导与积分兑换", CONV, "社区党群服务中心", "垃圾分类,积分兑换,环保积分",
         "垃圾分类知识指导,居民分类积分兑换生活用品。", "", ["积分卡"], ["现场兑换"], promised=0),
    item("BM-016", "房屋出租登记", CONV, "区公安分局", "出租登记,租房登记,房屋出租",
         "出租房屋的房东办理出租登记及租客信息登记。", "出租本辖区房屋。",
         ["房东居民身份证", "房屋产权证明", "承租人身份信息"], [WINDOW, "即时登记"], promised=0, online=True, online_note=APP),
    item("BM-017", "家政服务对接", CONV, "入驻服务机构", "家政,保洁,月嫂,育儿嫂",
         "以场地换服务引进的家政机构提供保洁、月嫂、护工对接。", "", [], ["登记需求", "机构对接"], promised=2, fee="按机构公示价格"),
    item("BM-018", "免费自习室", CONV, "社区党群服务中心", "自习室,学习吧,看书",
         "向学生和备考居民免费开放的自习空间。", "", [], ["现场登记入座"], promised=0),
    # --- 特色服务 ------------------------------------------------------------------------------
    item("TS-001", "临时老人儿童看护", FEAT, "党群暖心驿站", "临时看护,看孩子,临时托管,照看老人",
         "家长、子女临时有事时,驿站志愿者短时看护老人和儿童(一般不超过2小时)。", "本辖区居民,儿童须3周岁以上。",
         ["看护人及被看护人身份信息", "紧急联系电话"], ["登记", "签订看护告知书", "按约定时间接回"],
         promised=0, appointment=True,
         faqs=[("最长能看护多久?", "一般不超过2小时,具体以驿站说明为准。")]),
    item("TS-002", "幼儿日间托管", FEAT, "党群暖心驿站", "托幼,托育,日间托管,幼儿托管",
         "引进的托育机构为3岁以下幼儿提供日间托管。", "", ["幼儿及监护人身份信息", "幼儿体检证明"], ["预约参观", "签约入托"],
         promised=0, fee="按备案价格收费", appointment=True),
    item("TS-003", "老人日间照料", FEAT, "社区日间照料中心", "日间照料,日托,老人日托",
         "为生活半自理老人提供日间休息、助餐、康复和文娱服务。", "60周岁以上老人。",
         [ID, "健康状况说明"], ["登记评估", "签订服务协议"], promised=0, fee="困难老人免费,其他按公示价格"),
    item("TS-004", "矛盾纠纷调解", FEAT, "社区人民调解委员会", "调解,纠纷,邻里纠纷,吵架",
         "人民调解员调解邻里、家庭、物业等矛盾纠纷。", "", ["当事人身份证件", "纠纷相关材料"], ["申请调解", "调解员组织调解", "达成协议或告知其他途径"],
         legal=30, promised=15, universal=True, basic=True, legal_basis="《中华人民共和国人民调解法》"),
    item("TS-005", "帮办代办", FEAT, "社区党群服务中心", "代办,帮办,上门代办,我要代办",
         "为老年人、残疾人等行动不便的居民代为办理政务服务事项,必要时上门服务。", "行动不便或有特殊困难的居民。",
         ["委托人身份证件", "所办事项材料"], ["提出代办申请", "工作人员上门收取材料", "代为提交", "送达办理结果"],
         promised=0, universal=True, online=True, online_note="本平台“我要代办”", basic=True),
    item("TS-006", "亲子绘本阅读", FEAT, "入驻社会组织", "绘本,亲子阅读,亲子绘本馆",
         "亲子绘本馆开放借阅,每周末举办亲子共读活动。", "", [], ["现场借阅或报名活动"], promised=0),
    item("TS-007", "青年夜校", FEAT, "社区党群服务中心", "夜校,兴趣课,美妆课,吉他课",
         "晚间为青年居民开设美妆、吉他、手工等公益兴趣课程。", "", [], ["线上报名", "按课表上课"],
         promised=0, fee="公益课程免费,材料费自理", appointment=True),
    item("TS-008", "中医体验夜市", FEAT, "区卫生健康局", "中医,中医夜市,推拿,艾灸",
         "联合卫健部门开展中医问诊、推拿、艾灸体验。", "", [], ["现场排队或预约"], promised=0),
    item("TS-009", "技能培训(手工编织、直播)", FEAT, "社区党群服务中心", "技能培训,就业培训,直播培训,手工编织,以工代赈",
         "订单式手工编织培训、直播和短视频拍摄公益培训,帮助灵活就业。", "本辖区有就业意愿的居民。",
         [ID], ["报名", "参加培训", "对接订单"], promised=0, appointment=True),
    item("TS-010", "社区直播间使用", FEAT, "社区党群服务中心", "直播间,社区直播",
         "社区直播间向居民和社会组织开放,用于宣传和公益直播。", "", [], ["预约场地", "按时使用"], promised=0, appointment=True),
    # --- 公益服务 ------------------------------------------------------------------------------
    item("GY-001", "法律咨询(一社区一法律顾问)", WELF, "区司法局", "法律咨询,法律顾问,律师,咨询律师",
         "社区法律顾问定期坐班,免费解答婚姻家庭、劳动、邻里等法律问题。", "", [], ["预约或现场咨询"],
         promised=0, universal=True, online=True, online_note="12348法律服务热线", basic=True,
         faqs=[("律师哪天在?", "以各站点服务菜单中的本站说明为准,一般每周一次。")]),
    item("GY-002", "法律援助申请受理", WELF, "区司法局", "法律援助,免费律师,打官司",
         "经济困难公民申请法律援助,社区窗口受理转交法律援助中心。", "经济困难或属于法定免审情形。",
         [ID, "经济困难状况说明", "案件相关材料"], ["社区受理", "转交法律援助中心审查", "指派律师"],
         legal=7, promised=5, universal=True, agency=True, legal_basis="《中华人民共和国法律援助法》"),
    item("GY-003", "爱心义诊", WELF, "社区卫生服务中心", "义诊,量血压,测血糖,体检",
         "家庭医生和志愿医生定期义诊,免费测量血压、血糖。", "", [], ["现场排队"], promised=0),
    item("GY-004", "爱心义剪", WELF, "志愿服务队", "义剪,理发,剪头发",
         "志愿者定期为老年人、残疾人免费理发,行动不便者可上门。", "", [], ["现场排队或预约上门"], promised=0),
    item("GY-005", "心理疏导", WELF, "入驻社会组织", "心理咨询,心理疏导,情绪",
         "专业社工和心理咨询师提供公益心理疏导。", "", [], ["预约", "面谈"], promised=0, appointment=True),
    item("GY-006", "志愿者注册与服务", WELF, "社区党群服务中心", "志愿者,志愿服务,义工",
         "居民注册成为志愿者,认领服务项目,记录服务时长。", "年满14周岁。", [ID], ["注册", "认领项目"],
         promised=0, universal=True, online=True, online_note="志愿服务平台"),
    item("GY-007", "普法讲座(法律明白人)", WELF, "区司法局", "普法,法治讲座,法律明白人",
         "“法律明白人”开展普法宣讲和法治讲座。", "", [], ["关注活动通知", "现场参加"], promised=0),
    item("GY-008", "关爱老人上门探访", WELF, "社区党群服务中心", "探访,关爱老人,独居老人,空巢老人",
         "网格员和志愿者定期上门探访独居、空巢、失能老人。", "独居、空巢、失能老人或其家属申请。", [], ["登记需求", "按频次上门探访"],
         promised=0, agency=True),
    item("GY-009", "金融知识与防诈骗宣传", WELF, "驻社区金融机构", "防诈骗,金融知识,存款保险",
         "银行等共建单位开展存款保险、反诈骗宣传和咨询。", "", [], ["现场参加"], promised=0),
    item("GY-010", "四点半课堂", WELF, "社区党群服务中心", "四点半,课后托管,作业辅导",
         "放学后为小学生提供作业辅导和看护。", "本辖区小学生。", ["学生及家长信息"], ["报名", "按时接送"],
         promised=0, appointment=True),
]


def keys(name, keywords):
    """Frozen copy of linli.catalog.search.search_keys at the time of this migration."""
    import re
    import unicodedata

    from pypinyin import Style, lazy_pinyin

    han = re.compile(r"[\u3400-\u9fff]")
    token = re.compile(r"[a-z0-9]+")

    def sylls(text):
        text = unicodedata.normalize("NFKC", text).lower().replace("ü", "v").strip()
        out = []
        for chunk in lazy_pinyin(text, style=Style.NORMAL, v_to_u=False, errors="default"):
            if han.search(chunk):
                out.append(chunk)
            else:
                out.extend(token.findall(chunk.lower()))
        return out

    parts = [sylls(t) for t in [name, *[k for k in keywords if k.strip()]]]
    return "|".join(" ".join(p) for p in parts), "|".join("".join(s[0] for s in p if s) for p in parts)


def seed(apps, schema_editor):
    ServiceItem = apps.get_model("catalog", "ServiceItem")
    existing = set(ServiceItem.objects.values_list("code", flat=True))
    rows = []
    for order, data in enumerate(ITEMS, start=1):
        if data["code"] in existing:
            continue
        pinyin, initials = keys(data["name"], data["keywords"].split(","))
        rows.append(ServiceItem(**data, sort_order=order * 10, name_pinyin=pinyin, name_initials=initials))
    ServiceItem.objects.bulk_create(rows)


def unseed(apps, schema_editor):
    ServiceItem = apps.get_model("catalog", "ServiceItem")
    doomed = ServiceItem.objects.filter(code__in=[d["code"] for d in ITEMS])
    try:  # items on a station menu stay (the menu protects them)
        StationService = apps.get_model("stations", "StationService")
        doomed = doomed.exclude(id__in=StationService.objects.values("item_id"))
    except LookupError:
        pass
    doomed.delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_service_items")]
    operations = [migrations.RunPython(seed, unseed)]
