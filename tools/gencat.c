/*
 * gencat.c - `cistern-gencat OUT_DIR N [--seed S] [--files-kb K] [--queries FILE]`
 *
 * Writes a synthetic source tree for benchmarks and tests: N resources, one
 * folder each (OUT_DIR/<id>/resource.json + index.html of about K KiB,
 * default 2), shaped like a Chinese K-12 catalogue: 13 subjects, grades 1-12,
 * textbook editions, volumes 上册/下册, units 1-8, lessons; bilingual titles,
 * descriptions and keywords drawn from per-subject topic vocabularies;
 * prerequisites point at earlier units (and the previous lesson) of the same
 * edition and volume.  With --queries FILE it also writes about 200 search
 * queries drawn from the same vocabulary, one a line (UTF-8): 1-, 2- and
 * 3-character Chinese words, whole topics, English words, and English
 * prefixes marked by a trailing '*' (search those with prefix=1).
 *
 * Output depends only on N, the seed and K (own PRNG, splitmix64); the same
 * arguments give the same bytes.  Resource i's id ends in its index, so a
 * tree of N resources is a prefix of a tree of N+1 with the same seed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "platform/error.h"
#include "platform/file.h"

#define GENCAT_MAX_N 10000000L
#define GENCAT_MAX_KB 100000L
#define HTML_MAX (GENCAT_MAX_KB * 1024 + 8192)
#define NQUERIES 200
#define ID_BUF 160 /* ids here are < 64 bytes; the format allows 128 */

/* ---- PRNG ------------------------------------------------------------------ */

typedef struct {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0.  The tiny modulo bias is irrelevant here. */
static unsigned rng_below(rng *r, unsigned n)
{
    return (unsigned)(rng_next(r) % n);
}

/* 1 with probability pct/100. */
static int rng_pct(rng *r, unsigned pct)
{
    return rng_below(r, 100) < pct;
}

/* ---- vocabulary ------------------------------------------------------------ */

typedef struct {
    const char *zh, *en;
} term;

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const term math_topics[] = {
    {"数一数", "Counting"},
    {"20以内的加法", "Addition within 20"},
    {"认识图形", "Shapes"},
    {"认识钟表", "Telling the Time"},
    {"100以内的加法和减法", "Addition and Subtraction within 100"},
    {"表内乘法", "Multiplication Tables"},
    {"认识人民币", "Chinese Money"},
    {"长度单位", "Units of Length"},
    {"有余数的除法", "Division with Remainders"},
    {"万以内数的认识", "Numbers up to 10,000"},
    {"两位数乘两位数", "Two-Digit Multiplication"},
    {"分数的初步认识", "Introduction to Fractions"},
    {"小数的意义", "The Meaning of Decimals"},
    {"平行四边形和梯形", "Parallelograms and Trapezoids"},
    {"运算定律", "Laws of Operations"},
    {"三角形的面积", "Area of a Triangle"},
    {"因数与倍数", "Factors and Multiples"},
    {"分数的加减法", "Addition and Subtraction of Fractions"},
    {"长方体和正方体", "Cuboids and Cubes"},
    {"分数乘法", "Multiplying Fractions"},
    {"比和比例", "Ratio and Proportion"},
    {"圆的面积", "Area of a Circle"},
    {"百分数", "Percentages"},
    {"扇形统计图", "Pie Charts"},
    {"圆柱与圆锥", "Cylinders and Cones"},
    {"有理数", "Rational Numbers"},
    {"整式的加减", "Adding and Subtracting Polynomials"},
    {"一元一次方程", "Linear Equations in One Variable"},
    {"相交线与平行线", "Intersecting and Parallel Lines"},
    {"实数", "Real Numbers"},
    {"平面直角坐标系", "The Cartesian Coordinate System"},
    {"二元一次方程组", "Systems of Linear Equations"},
    {"不等式与不等式组", "Inequalities"},
    {"全等三角形", "Congruent Triangles"},
    {"轴对称", "Axial Symmetry"},
    {"因式分解", "Factorization"},
    {"分式", "Fractional Expressions"},
    {"二次根式", "Quadratic Radicals"},
    {"勾股定理", "The Pythagorean Theorem"},
    {"平行四边形", "Parallelograms"},
    {"一次函数", "Linear Functions"},
    {"数据的分析", "Data Analysis"},
    {"一元二次方程", "Quadratic Equations"},
    {"二次函数", "Quadratic Functions"},
    {"旋转", "Rotation"},
    {"圆", "Circles"},
    {"概率初步", "Introduction to Probability"},
    {"反比例函数", "Inverse Proportional Functions"},
    {"相似三角形", "Similar Triangles"},
    {"锐角三角函数", "Trigonometric Ratios"},
    {"集合", "Sets"},
    {"函数的概念", "The Concept of a Function"},
    {"指数函数与对数函数", "Exponential and Logarithmic Functions"},
    {"三角函数", "Trigonometric Functions"},
    {"平面向量", "Plane Vectors"},
    {"复数", "Complex Numbers"},
    {"立体几何初步", "Introduction to Solid Geometry"},
    {"统计", "Statistics"},
    {"数列", "Sequences"},
    {"导数及其应用", "Derivatives and Their Applications"},
    {"圆锥曲线", "Conic Sections"},
    {"空间向量", "Space Vectors"},
    {"排列组合", "Permutations and Combinations"},
    {"二项式定理", "The Binomial Theorem"},
    {"随机变量及其分布", "Random Variables and Distributions"},
};

static const term physics_topics[] = {
    {"机械运动", "Mechanical Motion"},
    {"声现象", "Sound"},
    {"物态变化", "Changes of State"},
    {"光现象", "Light"},
    {"透镜及其应用", "Lenses and Their Uses"},
    {"质量与密度", "Mass and Density"},
    {"力", "Force"},
    {"牛顿第一定律", "Newton's First Law"},
    {"压强", "Pressure"},
    {"浮力", "Buoyancy"},
    {"功和机械能", "Work and Mechanical Energy"},
    {"简单机械", "Simple Machines"},
    {"内能", "Internal Energy"},
    {"电流和电路", "Current and Circuits"},
    {"电压和电阻", "Voltage and Resistance"},
    {"欧姆定律", "Ohm's Law"},
    {"电功率", "Electric Power"},
    {"电与磁", "Electricity and Magnetism"},
    {"运动的描述", "Describing Motion"},
    {"匀变速直线运动", "Uniformly Accelerated Motion"},
    {"相互作用", "Interactions"},
    {"牛顿运动定律", "Newton's Laws of Motion"},
    {"曲线运动", "Curvilinear Motion"},
    {"万有引力与宇宙航行", "Gravitation and Spaceflight"},
    {"机械能守恒定律", "Conservation of Mechanical Energy"},
    {"动量守恒定律", "Conservation of Momentum"},
    {"机械振动", "Mechanical Vibration"},
    {"机械波", "Mechanical Waves"},
    {"静电场", "Electrostatic Fields"},
    {"恒定电流", "Direct Current"},
    {"磁场", "Magnetic Fields"},
    {"电磁感应", "Electromagnetic Induction"},
    {"交变电流", "Alternating Current"},
    {"光的折射", "Refraction of Light"},
    {"原子结构", "Atomic Structure"},
    {"原子核", "The Atomic Nucleus"},
};

static const term chemistry_topics[] = {
    {"走进化学世界", "Introduction to Chemistry"},
    {"空气", "Air"},
    {"氧气", "Oxygen"},
    {"水的组成", "The Composition of Water"},
    {"分子和原子", "Molecules and Atoms"},
    {"元素", "Elements"},
    {"化学式与化合价", "Chemical Formulas and Valence"},
    {"质量守恒定律", "Conservation of Mass"},
    {"化学方程式", "Chemical Equations"},
    {"碳和碳的氧化物", "Carbon and Its Oxides"},
    {"燃料及其利用", "Fuels and Their Use"},
    {"金属和金属材料", "Metals and Metallic Materials"},
    {"溶液", "Solutions"},
    {"酸和碱", "Acids and Bases"},
    {"盐和化肥", "Salts and Fertilizers"},
    {"物质的分类", "Classification of Matter"},
    {"离子反应", "Ionic Reactions"},
    {"氧化还原反应", "Redox Reactions"},
    {"物质的量", "Amount of Substance"},
    {"钠及其化合物", "Sodium and Its Compounds"},
    {"氯及其化合物", "Chlorine and Its Compounds"},
    {"元素周期律", "The Periodic Law"},
    {"化学键", "Chemical Bonds"},
    {"化学反应速率", "Reaction Rates"},
    {"化学平衡", "Chemical Equilibrium"},
    {"原电池", "Galvanic Cells"},
    {"电解池", "Electrolytic Cells"},
    {"有机化合物", "Organic Compounds"},
    {"烃", "Hydrocarbons"},
    {"乙醇与乙酸", "Ethanol and Acetic Acid"},
    {"高分子材料", "Polymer Materials"},
};

static const term biology_topics[] = {
    {"认识生物", "Getting to Know Living Things"},
    {"细胞是生命活动的基本单位", "The Cell as the Basic Unit of Life"},
    {"生物体的结构层次", "Levels of Organisation"},
    {"绿色植物", "Green Plants"},
    {"光合作用", "Photosynthesis"},
    {"呼吸作用", "Cellular Respiration"},
    {"人的由来", "Human Origins"},
    {"人体的营养", "Human Nutrition"},
    {"人体的呼吸", "Human Breathing"},
    {"血液循环", "Blood Circulation"},
    {"神经调节", "Nervous Regulation"},
    {"激素调节", "Hormonal Regulation"},
    {"动物的运动和行为", "Animal Movement and Behaviour"},
    {"细菌和真菌", "Bacteria and Fungi"},
    {"生物的生殖和发育", "Reproduction and Development"},
    {"遗传与变异", "Heredity and Variation"},
    {"生物的进化", "Evolution"},
    {"传染病和免疫", "Infectious Diseases and Immunity"},
    {"组成细胞的分子", "Molecules of the Cell"},
    {"细胞的能量供应", "Energy Supply of the Cell"},
    {"有丝分裂", "Mitosis"},
    {"减数分裂", "Meiosis"},
    {"孟德尔遗传定律", "Mendel's Laws of Inheritance"},
    {"DNA的结构", "The Structure of DNA"},
    {"基因的表达", "Gene Expression"},
    {"种群和群落", "Populations and Communities"},
    {"生态系统", "Ecosystems"},
    {"内环境稳态", "Homeostasis"},
};

static const term history_topics[] = {
    {"中华文明的起源", "Origins of Chinese Civilization"},
    {"夏商周", "The Xia, Shang and Zhou Dynasties"},
    {"百家争鸣", "The Hundred Schools of Thought"},
    {"秦统一中国", "The Qin Unification of China"},
    {"两汉", "The Han Dynasties"},
    {"三国两晋南北朝", "From the Three Kingdoms to the Southern and Northern Dynasties"},
    {"隋唐盛世", "The Sui and Tang Dynasties"},
    {"宋元", "The Song and Yuan Dynasties"},
    {"明清", "The Ming and Qing Dynasties"},
    {"鸦片战争", "The Opium Wars"},
    {"洋务运动", "The Self-Strengthening Movement"},
    {"辛亥革命", "The 1911 Revolution"},
    {"五四运动", "The May Fourth Movement"},
    {"抗日战争", "The War of Resistance Against Japan"},
    {"中华人民共和国成立", "The Founding of the People's Republic"},
    {"改革开放", "Reform and Opening-up"},
    {"古代埃及", "Ancient Egypt"},
    {"古代希腊", "Ancient Greece"},
    {"古代罗马", "Ancient Rome"},
    {"文艺复兴", "The Renaissance"},
    {"新航路开辟", "The Age of Discovery"},
    {"工业革命", "The Industrial Revolution"},
    {"第一次世界大战", "World War I"},
    {"第二次世界大战", "World War II"},
    {"冷战", "The Cold War"},
};

static const term geography_topics[] = {
    {"地球和地图", "The Earth and Maps"},
    {"经纬网", "Latitude and Longitude"},
    {"地球的运动", "The Motions of the Earth"},
    {"陆地和海洋", "Land and Ocean"},
    {"天气与气候", "Weather and Climate"},
    {"居民与聚落", "Population and Settlements"},
    {"亚洲", "Asia"},
    {"欧洲西部", "Western Europe"},
    {"中国的疆域", "China's Territory"},
    {"中国的地形", "China's Landforms"},
    {"中国的气候", "China's Climate"},
    {"中国的河流", "China's Rivers"},
    {"青藏地区", "The Qinghai-Tibet Region"},
    {"西北地区", "Northwest China"},
    {"自然资源", "Natural Resources"},
    {"大气的组成和垂直分层", "Composition and Layers of the Atmosphere"},
    {"水循环", "The Water Cycle"},
    {"洋流", "Ocean Currents"},
    {"地貌", "Landforms"},
    {"人口迁移", "Migration"},
    {"城镇化", "Urbanization"},
    {"农业区位", "Agricultural Location"},
    {"工业区位", "Industrial Location"},
    {"交通运输", "Transport"},
    {"可持续发展", "Sustainable Development"},
};

static const term morality_topics[] = {
    {"我上学了", "Starting School"},
    {"我爱我家", "I Love My Family"},
    {"安全护我成长", "Staying Safe"},
    {"我们的班级", "Our Class"},
    {"我们的公共生活", "Our Public Life"},
    {"爱护地球", "Caring for the Earth"},
    {"诚实守信", "Honesty and Trust"},
    {"学会合作", "Learning to Cooperate"},
    {"成长的节拍", "The Rhythm of Growing Up"},
    {"友谊的天空", "The Sky of Friendship"},
    {"生命的思考", "Thinking About Life"},
    {"青春时光", "The Time of Youth"},
    {"做情绪情感的主人", "Managing Emotions"},
    {"走进法治天地", "Into the Rule of Law"},
    {"遵守社会规则", "Following Social Rules"},
    {"勇担社会责任", "Taking Social Responsibility"},
    {"理解权利义务", "Rights and Duties"},
    {"人民当家作主", "The People as Masters of the Country"},
    {"宪法", "The Constitution"},
    {"文化自信", "Cultural Confidence"},
    {"中国特色社会主义", "Socialism with Chinese Characteristics"},
    {"经济与社会", "Economy and Society"},
    {"政治与法治", "Politics and the Rule of Law"},
    {"哲学与文化", "Philosophy and Culture"},
};

static const term science_topics[] = {
    {"植物", "Plants"},
    {"动物", "Animals"},
    {"我们周围的材料", "Materials Around Us"},
    {"水", "Water"},
    {"空气", "Air"},
    {"天气", "Weather"},
    {"溶解", "Dissolving"},
    {"声音", "Sound"},
    {"光", "Light"},
    {"磁铁", "Magnets"},
    {"电路", "Electric Circuits"},
    {"岩石与土壤", "Rocks and Soil"},
    {"水的三态", "The Three States of Water"},
    {"食物链", "Food Chains"},
    {"简单机械", "Simple Machines"},
    {"热", "Heat"},
    {"物质的变化", "Changes in Matter"},
    {"生物与环境", "Living Things and Their Environment"},
    {"生物的多样性", "Biodiversity"},
    {"月相变化", "Phases of the Moon"},
    {"太阳系", "The Solar System"},
    {"地球与宇宙", "The Earth and the Universe"},
};

static const term music_topics[] = {
    {"唱歌", "Singing"},
    {"节奏", "Rhythm"},
    {"欣赏《茉莉花》", "Listening: Jasmine Flower"},
    {"打击乐器", "Percussion Instruments"},
    {"识谱", "Reading Music"},
    {"民歌", "Folk Songs"},
    {"音阶", "Scales"},
    {"二胡", "The Erhu"},
    {"古筝", "The Guzheng"},
    {"进行曲", "Marches"},
    {"合唱", "Choir Singing"},
    {"京剧", "Peking Opera"},
    {"少数民族音乐", "Music of Ethnic Minorities"},
    {"《黄河大合唱》", "The Yellow River Cantata"},
    {"交响乐", "The Symphony"},
};

static const term art_topics[] = {
    {"线条", "Lines"},
    {"色彩", "Colour"},
    {"剪纸", "Paper Cutting"},
    {"手工制作", "Handicrafts"},
    {"风筝", "Kites"},
    {"泥塑", "Clay Modelling"},
    {"水墨画", "Ink Painting"},
    {"版画", "Printmaking"},
    {"书法", "Calligraphy"},
    {"脸谱", "Opera Masks"},
    {"中国传统纹样", "Traditional Chinese Patterns"},
    {"透视", "Perspective"},
    {"速写", "Sketching"},
    {"设计与生活", "Design in Daily Life"},
    {"美术鉴赏", "Art Appreciation"},
};

static const term it_topics[] = {
    {"认识计算机", "Getting to Know the Computer"},
    {"键盘与鼠标", "Keyboard and Mouse"},
    {"文字处理", "Word Processing"},
    {"图像处理", "Image Editing"},
    {"电子表格", "Spreadsheets"},
    {"演示文稿", "Presentations"},
    {"网络与安全", "Networks and Online Safety"},
    {"Scratch编程", "Scratch Programming"},
    {"编程入门", "Introduction to Programming"},
    {"算法", "Algorithms"},
    {"Python程序设计", "Python Programming"},
    {"数据与数据库", "Data and Databases"},
    {"物联网", "The Internet of Things"},
    {"人工智能初步", "Introduction to Artificial Intelligence"},
    {"信息系统", "Information Systems"},
    {"数据结构", "Data Structures"},
};

static const term chinese_topics[] = {
    {"秋天", "Autumn"},
    {"小小的船", "The Little Boat"},
    {"江南", "Jiangnan"},
    {"四季", "The Four Seasons"},
    {"咏鹅", "Ode to the Goose"},
    {"静夜思", "Quiet Night Thoughts"},
    {"小蝌蚪找妈妈", "The Little Tadpoles Look for Their Mother"},
    {"曹冲称象", "Cao Chong Weighs the Elephant"},
    {"望庐山瀑布", "Viewing the Waterfall at Mount Lu"},
    {"赠汪伦", "To Wang Lun"},
    {"夜宿山寺", "A Night at a Mountain Temple"},
    {"坐井观天", "Looking at the Sky from the Bottom of a Well"},
    {"咏柳", "Ode to the Willow"},
    {"司马光", "Sima Guang"},
    {"守株待兔", "Waiting for a Hare by a Tree Stump"},
    {"赵州桥", "The Zhaozhou Bridge"},
    {"观潮", "Watching the Tide"},
    {"爬山虎的脚", "The Feet of the Creeper"},
    {"精卫填海", "Jingwei Fills the Sea"},
    {"草船借箭", "Borrowing Arrows with Straw Boats"},
    {"景阳冈", "Jingyang Ridge"},
    {"将相和", "The General and the Minister"},
    {"少年中国说", "Ode to Young China"},
    {"圆明园的毁灭", "The Destruction of the Old Summer Palace"},
    {"匆匆", "Transience"},
    {"北京的春节", "The Spring Festival in Beijing"},
    {"春", "Spring"},
    {"济南的冬天", "Winter in Jinan"},
    {"从百草园到三味书屋", "From the Hundred-Plant Garden to the Three-Flavour Study"},
    {"论语十二章", "Twelve Passages from the Analects"},
    {"木兰诗", "The Ballad of Mulan"},
    {"背影", "The Sight of Father's Back"},
    {"桃花源记", "The Peach Blossom Spring"},
    {"岳阳楼记", "The Yueyang Tower"},
    {"醉翁亭记", "The Old Drunkard's Pavilion"},
    {"出师表", "Memorial on Sending Out the Troops"},
    {"孔乙己", "Kong Yiji"},
    {"故乡", "My Old Home"},
    {"沁园春·雪", "Snow, to the Tune of Qin Yuan Chun"},
    {"劝学", "An Exhortation to Learning"},
    {"师说", "On Teachers"},
    {"赤壁赋", "Ode to the Red Cliff"},
    {"琵琶行", "Song of the Pipa"},
    {"荷塘月色", "Moonlight over the Lotus Pond"},
    {"雷雨", "Thunderstorm"},
    {"蜀道难", "The Road to Shu Is Hard"},
    {"阿房宫赋", "Ode to the Epang Palace"},
    {"登高", "Climbing High"},
    {"红楼梦", "Dream of the Red Chamber"},
};

/* English: zh is the unit's Chinese gloss, en the unit name ("My School"). */
static const term english_topics[] = {
    {"你好", "Hello!"},
    {"我的学校", "My School"},
    {"我的家庭", "My Family"},
    {"颜色", "Colours"},
    {"我的身体", "My Body"},
    {"动物", "Animals"},
    {"食物和饮料", "Food and Drinks"},
    {"在动物园", "At the Zoo"},
    {"天气", "Weather"},
    {"我的一天", "My Day"},
    {"爱好", "Hobbies"},
    {"运动", "Sports"},
    {"节日", "Festivals"},
    {"购物", "Shopping"},
    {"旅行", "Travel"},
    {"职业", "Jobs"},
    {"健康", "Health"},
    {"友谊", "Friendship"},
    {"环境", "The Environment"},
    {"音乐", "Music"},
    {"互联网", "The Internet"},
    {"中国文化", "Chinese Culture"},
    {"科学与技术", "Science and Technology"},
    {"志愿服务", "Volunteering"},
    {"野生动物保护", "Wildlife Protection"},
    {"文化遗产", "Cultural Heritage"},
    {"历史与传统", "History and Traditions"},
    {"太空探索", "Space Exploration"},
};

static const term aspects_general[] = {
    {"新授课", "New Lesson"},          {"重点难点", "Key Points"},  {"例题精讲", "Worked Examples"},
    {"课堂练习", "Class Practice"},    {"单元复习", "Unit Review"}, {"知识梳理", "Summary"},
    {"易错题分析", "Common Mistakes"}, {"拓展提升", "Extension"},
};
static const term aspects_science[] = {
    {"新授课", "New Lesson"},       {"实验探究", "Lab Investigation"},
    {"重点难点", "Key Points"},     {"例题精讲", "Worked Examples"},
    {"课堂练习", "Class Practice"}, {"单元复习", "Unit Review"},
    {"演示实验", "Demonstration"},  {"生活中的应用", "Everyday Applications"},
};
static const term aspects_chinese[] = {
    {"朗读", "Reading Aloud"},
    {"生字词", "New Characters and Words"},
    {"课文赏析", "Text Appreciation"},
    {"背景介绍", "Background"},
    {"写作指导", "Writing Guidance"},
    {"课后练习", "Exercises"},
    {"古诗词鉴赏", "Poetry Appreciation"},
};
static const term aspects_english[] = {
    {"听说", "Listening and Speaking"},
    {"读写", "Reading and Writing"},
    {"语法", "Grammar"},
    {"词汇", "Vocabulary"},
    {"语音", "Pronunciation"},
    {"单元复习", "Unit Review"},
};
static const term aspects_arts[] = {
    {"欣赏", "Appreciation"}, {"创作", "Creating"},  {"新授课", "New Lesson"},
    {"表演", "Performance"},  {"拓展", "Extension"},
};

typedef struct {
    const char *code, *zh, *en;
    int gmin, gmax;
    int chapters; /* 1: middle school numbers 第N章, else 第N单元 */
    unsigned weight;
    const char *editions; /* indices into the edition table, as digits */
    const term *topics;
    size_t ntopics;
    const term *aspects;
    size_t naspects;
} subject;

#define TOPICS(a) a, N_OF(a)
static const subject subjects[] = {
    {"chinese", "语文", "Chinese", 1, 12, 0, 16, "317", TOPICS(chinese_topics),
     TOPICS(aspects_chinese)},
    {"math", "数学", "Math", 1, 12, 1, 18, "01245678", TOPICS(math_topics),
     TOPICS(aspects_general)},
    {"english", "英语", "English", 3, 12, 0, 14, "0514", TOPICS(english_topics),
     TOPICS(aspects_english)},
    {"physics", "物理", "Physics", 8, 12, 1, 7, "0148", TOPICS(physics_topics),
     TOPICS(aspects_science)},
    {"chemistry", "化学", "Chemistry", 9, 12, 1, 6, "0248", TOPICS(chemistry_topics),
     TOPICS(aspects_science)},
    {"biology", "生物", "Biology", 7, 12, 1, 6, "0126", TOPICS(biology_topics),
     TOPICS(aspects_science)},
    {"history", "历史", "History", 7, 12, 0, 5, "3", TOPICS(history_topics),
     TOPICS(aspects_general)},
    {"geography", "地理", "Geography", 7, 12, 0, 5, "067", TOPICS(geography_topics),
     TOPICS(aspects_general)},
    {"morality", "道德与法治", "Morality and Law", 1, 12, 0, 5, "3", TOPICS(morality_topics),
     TOPICS(aspects_general)},
    {"science", "科学", "Science", 1, 6, 0, 5, "01278", TOPICS(science_topics),
     TOPICS(aspects_science)},
    {"music", "音乐", "Music", 1, 9, 0, 3, "0648", TOPICS(music_topics), TOPICS(aspects_arts)},
    {"art", "美术", "Art", 1, 9, 0, 3, "0678", TOPICS(art_topics), TOPICS(aspects_arts)},
    {"it", "信息技术", "Information Technology", 3, 12, 0, 4, "0278", TOPICS(it_topics),
     TOPICS(aspects_general)},
};
#define NSUBJECTS N_OF(subjects)

typedef struct {
    const char *code, *zh, *en, *publisher;
} edition;

static const edition editions[] = {
    {"renjiao-2024", "人教版", "PEP", "人民教育出版社"},
    {"bsd-2024", "北师大版", "BNUP", "北京师范大学出版社"},
    {"sujiao-2024", "苏教版", "Jiangsu Education", "江苏凤凰教育出版社"},
    {"bubian-2024", "部编版", "MOE unified", "人民教育出版社"},
    {"hujiao-2024", "沪教版", "Shanghai Education", "上海教育出版社"},
    {"waiyan-2024", "外研版", "FLTRP", "外语教学与研究出版社"},
    {"xiangjiao-2024", "湘教版", "Hunan Education", "湖南教育出版社"},
    {"zhejiao-2024", "浙教版", "Zhejiang Education", "浙江教育出版社"},
    {"yuejiao-2024", "粤教版", "Guangdong Education", "广东教育出版社"},
};
#define NEDITIONS N_OF(editions)

static const char *const grade_zh[] = {"",       "一年级", "二年级", "三年级", "四年级",
                                       "五年级", "六年级", "七年级", "八年级", "九年级",
                                       "高一",   "高二",   "高三"};
static const char *const num_zh[] = {"零", "一", "二", "三", "四", "五",
                                     "六", "七", "八", "九", "十"};

typedef struct {
    const char *code, *zh, *en, *desc_zh, *desc_en;
    unsigned weight;
} rtype;

static const rtype rtypes[] = {
    {"video", "微课视频", "Video", "微课视频，时长%d分钟", "a %d-minute video lesson", 30},
    {"document", "课件", "Slides", "课件与教案，共%d页", "slides and a lesson plan, %d pages", 24},
    {"html", "互动课件", "Interactive Lesson", "互动课件，约%d分钟完成",
     "an interactive lesson of about %d minutes", 15},
    {"exercise", "同步练习", "Exercises", "同步练习，共%d题", "a set of %d exercises", 16},
    {"audio", "音频", "Audio", "音频，时长%d分钟", "a %d-minute recording", 8},
    {"image", "挂图", "Wall Chart", "教学挂图%d幅", "%d wall charts", 7},
};

static const char *const provinces[] = {"四川省",           "云南省",        "贵州省",
                                        "甘肃省",           "青海省",        "西藏自治区",
                                        "新疆维吾尔自治区", "广西壮族自治区"};

/* A few words in the minority-language titles (Tibetan, Uyghur). */
static const char *const bo_lesson = "སློབ་ཚན།";
static const char *const ug_lesson = "دەرس";

/* ---- small helpers --------------------------------------------------------- */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    fputs("cistern-gencat: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* Append printf output to buf (cap bytes); truncates silently at cap. */
static size_t app(char *buf, size_t cap, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static size_t app(char *buf, size_t cap, size_t len, const char *fmt, ...)
{
    va_list ap;
    if (len >= cap)
        return len;
    va_start(ap, fmt);
    int n = vsnprintf(buf + len, cap - len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return len;
    return (size_t)n >= cap - len ? cap - 1 : len + (size_t)n;
}

/* Append s with &, <, > and " escaped. */
static size_t app_html(char *buf, size_t cap, size_t len, const char *s)
{
    for (; *s && len + 7 < cap; s++) {
        switch (*s) {
        case '&':
            len = app(buf, cap, len, "&amp;");
            break;
        case '<':
            len = app(buf, cap, len, "&lt;");
            break;
        case '>':
            len = app(buf, cap, len, "&gt;");
            break;
        case '"':
            len = app(buf, cap, len, "&quot;");
            break;
        default:
            buf[len++] = *s;
            buf[len] = '\0';
        }
    }
    return len;
}

static unsigned pick_weighted_subject(rng *r)
{
    unsigned total = 0, x;
    for (size_t i = 0; i < NSUBJECTS; i++)
        total += subjects[i].weight;
    x = rng_below(r, total);
    for (size_t i = 0; i < NSUBJECTS; i++) {
        if (x < subjects[i].weight)
            return (unsigned)i;
        x -= subjects[i].weight;
    }
    return 0;
}

static unsigned pick_type(rng *r, const subject *s)
{
    unsigned total = 0, x;
    for (size_t i = 0; i < N_OF(rtypes); i++)
        total += rtypes[i].weight;
    /* Listening material is common in English and music. */
    if ((strcmp(s->code, "english") == 0 || strcmp(s->code, "music") == 0) && rng_pct(r, 25))
        return 4;
    x = rng_below(r, total);
    for (size_t i = 0; i < N_OF(rtypes); i++) {
        if (x < rtypes[i].weight)
            return (unsigned)i;
        x -= rtypes[i].weight;
    }
    return 0;
}

static void grade_en(char *buf, size_t cap, int g)
{
    snprintf(buf, cap, "Grade %d", g);
}

/* The topic a unit teaches: by its position in the subject's years, so early
 * grades get early topics; editions differ by a small shift. */
static const term *unit_topic(const subject *s, int grade, int vol, int unit, unsigned ed)
{
    size_t span = (size_t)(s->gmax - s->gmin + 1) * 16;
    size_t pos = ((size_t)(grade - s->gmin) * 2 + (size_t)(vol - 1)) * 8 + (size_t)(unit - 1);
    size_t idx = pos * s->ntopics / span + (ed % 3 == 1 && pos % 3 == 0 ? 1 : 0);
    if (idx >= s->ntopics)
        idx = s->ntopics - 1;
    return &s->topics[idx];
}

/* Chapter number as printed in the book. */
static int chapter_no(const subject *s, int grade, int vol, int unit)
{
    if (s->chapters && grade >= 7 && grade <= 9)
        return (grade - 7) * 10 + (vol - 1) * 5 + unit;
    return unit;
}

/* ---- one resource ---------------------------------------------------------- */

/* Group = (subject, grade, edition, volume, unit): the first and the latest
 * resource index in it, -1 if none yet. */
#define GROUP_INDEX(su, g, ed, v, u)                                                               \
    (((((size_t)(su)*13 + (size_t)(g)) * NEDITIONS + (size_t)(ed)) * 2 + (size_t)((v)-1)) * 9 +    \
     (size_t)(u))
#define NGROUPS (NSUBJECTS * 13 * NEDITIONS * 2 * 9)

typedef struct {
    int32_t first[NGROUPS];
    int32_t last[NGROUPS];
    uint8_t count[NGROUPS];
    char *html;
    size_t files_bytes;
} gen;

static void make_id(char *buf, size_t cap, const subject *s, int grade, unsigned ed, int vol,
                    int unit, long i)
{
    snprintf(buf, cap, "%s-g%d-%s-v%d-u%d-%06ld", s->code, grade, editions[ed].code, vol, unit, i);
}

/* The indices behind the ids are enough to rebuild them: the group is in the
 * id.  Remember (index, group) pairs. */
typedef struct {
    int32_t idx;
    uint16_t su, g, ed, v, u;
} ref;

static void ref_id(char *buf, size_t cap, const ref *r)
{
    make_id(buf, cap, &subjects[r->su], r->g, r->ed, r->v, r->u, r->idx);
}

static size_t html_page(char *buf, size_t cap, size_t want, rng *r, const char *title_zh,
                        const char *title_en, const subject *s, const term *topic, const char *lang)
{
    static const char *const para_zh[] = {
        "本节课我们学习%s。请先阅读教材，再完成下面的思考题。",
        "%s是本单元的重点内容，理解它的概念和方法非常重要。",
        "请同学们结合生活中的例子，说一说你对%s的理解。",
        "小组合作：围绕%s设计一个小问题，并和同伴交流解答思路。",
        "课后请复习%s的主要知识点，完成练习册中的相关题目。",
        "教师提示：讲解%s时，可先复习上一课的内容，再引入新知识。",
    };
    static const char *const para_en[] = {
        ("In this lesson we study %s. Read the textbook section first, then try the questions "
         "below."), /* one string: parentheses say so */
        "%s is a key idea of this unit; make sure you understand both the concept and the method.",
        "Work in pairs: write one question about %s and explain your answer to your partner.",
        "After class, review the main points of %s and finish the related exercises.",
        "Teacher's note: when introducing %s, start with a short review of the previous lesson.",
    };
    size_t len = 0;
    buf[0] = '\0';
    len = app(buf, cap, len,
              "<!doctype html>\n<html lang=\"%s\">\n<head><meta charset=\"utf-8\">"
              "<meta name=\"viewport\" content=\"width=device-width\">\n<title>",
              lang);
    len = app_html(buf, cap, len, title_zh);
    len = app(buf, cap, len, "</title></head>\n<body>\n<h1>");
    len = app_html(buf, cap, len, title_zh);
    len = app(buf, cap, len, "</h1>\n<p class=\"en\">");
    len = app_html(buf, cap, len, title_en);
    len = app(buf, cap, len, "</p>\n<p class=\"subject\">%s · %s</p>\n", s->zh, s->en);
    for (int k = 1; len + 600 < want && len + 600 < cap; k++) {
        if (k % 4 == 1)
            len = app(buf, cap, len, "<h2>%s %d</h2>\n", k == 1 ? "学习目标" : "活动", (k + 3) / 4);
        len = app(buf, cap, len, "<p>");
        len = app(buf, cap, len, para_zh[rng_below(r, N_OF(para_zh))], topic->zh);
        len = app(buf, cap, len, "</p>\n<p lang=\"en\">");
        char en[512];
        snprintf(en, sizeof en, para_en[rng_below(r, N_OF(para_en))], topic->en);
        len = app_html(buf, cap, len, en);
        len = app(buf, cap, len, "</p>\n");
    }
    for (unsigned q = 1; len + 60 < want && len + 60 < cap; q++)
        len = app(buf, cap, len, "<p class=\"q\">练习 %u：第 %u 题</p>\n", q, 1 + rng_below(r, 50));
    len = app(buf, cap, len, "</body>\n</html>\n");
    return len;
}

/* Plain writes: a benchmark tree needs no fsync or atomic rename. */
static void write_file(int dirfd, const char *dir, const char *name, const char *data, size_t len,
                       const char *tail)
{
    cs_err err = {0};
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        die("%s/%s: %s", dir, name, strerror(errno));
    if (cs_write_full(fd, data, len, &err) != 0 ||
        (tail && cs_write_full(fd, tail, strlen(tail), &err) != 0))
        die("%s/%s: %s", dir, name, err.msg);
    if (close(fd) != 0)
        die("%s/%s: %s", dir, name, strerror(errno));
}

static void gen_one(gen *G, const char *out, int outfd, long i, uint64_t seed, size_t files_kb)
{
    rng r = {seed ^ ((uint64_t)i * 0xD1B54A32D192ED03ULL)};
    rng_next(&r);

    unsigned su = pick_weighted_subject(&r);
    const subject *s = &subjects[su];
    int grade = s->gmin + (int)rng_below(&r, (unsigned)(s->gmax - s->gmin + 1));
    unsigned ed = (unsigned)(s->editions[rng_below(&r, (unsigned)strlen(s->editions))] - '0');
    const edition *e = &editions[ed];
    int vol = 1 + (int)rng_below(&r, 2);
    int unit = 1 + (int)rng_below(&r, 8);
    unsigned ty = pick_type(&r, s);
    const rtype *t = &rtypes[ty];
    const term *topic = unit_topic(s, grade, vol, unit, ed);
    const term *aspect = &s->aspects[rng_below(&r, (unsigned)s->naspects)];
    size_t gi = GROUP_INDEX(su, grade, ed, vol, unit);
    int lesson = 1 + G->count[gi] % 6;
    if (G->count[gi] < 255)
        G->count[gi]++;
    int ch = chapter_no(s, grade, vol, unit);
    int english = strcmp(s->code, "english") == 0;

    char id[ID_BUF], tzh[1024], ten[1024], dzh[2048], den[2048], gen_[32], unit_zh[64], unit_en[64];
    make_id(id, sizeof id, s, grade, ed, vol, unit, i);
    grade_en(gen_, sizeof gen_, grade);
    if (english) {
        snprintf(unit_zh, sizeof unit_zh, "Unit %d", ch);
        snprintf(unit_en, sizeof unit_en, "Unit %d", ch);
    } else if (s->chapters && grade >= 7) {
        snprintf(unit_zh, sizeof unit_zh, "第%d章", ch);
        snprintf(unit_en, sizeof unit_en, "Ch. %d", ch);
    } else {
        snprintf(unit_zh, sizeof unit_zh, "第%s单元", num_zh[ch <= 10 ? ch : 0]);
        snprintf(unit_en, sizeof unit_en, "Unit %d", ch);
    }
    const char *vol_zh = vol == 1 ? "上册" : "下册";

    /* Titles. */
    if (english)
        snprintf(tzh, sizeof tzh, "%s %s %s%s %s %s（%s） 第%d课时 %s（%s）", e->zh, s->zh,
                 grade_zh[grade], vol_zh, unit_zh, topic->en, topic->zh, lesson, aspect->zh, t->zh);
    else
        snprintf(tzh, sizeof tzh, "%s %s %s%s %s %s 第%d课时 %s（%s）", e->zh, s->zh,
                 grade_zh[grade], vol_zh, unit_zh, topic->zh, lesson, aspect->zh, t->zh);
    snprintf(ten, sizeof ten, "%s %s Vol. %d %s %s, Lesson %d: %s (%s, %s)", s->en, gen_, vol,
             unit_en, topic->en, lesson, aspect->en, t->en, e->en);

    /* Descriptions. */
    int amount = ty == 3   ? 5 + (int)rng_below(&r, 26)
                 : ty == 5 ? 1 + (int)rng_below(&r, 8)
                 : ty == 1 ? 8 + (int)rng_below(&r, 30)
                           : 5 + (int)rng_below(&r, 20);
    char what_zh[256], what_en[256];
    snprintf(what_zh, sizeof what_zh, t->desc_zh, amount);
    snprintf(what_en, sizeof what_en, t->desc_en, amount);
    switch (rng_below(&r, 4)) {
    case 0:
        snprintf(dzh, sizeof dzh, "本课时围绕“%s”展开（%s），适用于%s%s%s%s。%s。", topic->zh,
                 aspect->zh, e->zh, grade_zh[grade], vol_zh, unit_zh, what_zh);
        snprintf(den, sizeof den,
                 "This lesson is about %s (%s), for %s %s Vol. %d %s. It comes with %s.", topic->en,
                 aspect->en, e->en, gen_, vol, unit_en, what_en);
        break;
    case 1:
        snprintf(dzh, sizeof dzh, "%s：%s。帮助学生理解%s的基本概念和方法，配套%s%s教材。", what_zh,
                 topic->zh, topic->zh, e->zh, s->zh);
        snprintf(den, sizeof den,
                 "%s on %s, helping students grasp the basic ideas and methods; matches the %s %s "
                 "textbook.",
                 what_en, topic->en, e->en, s->en);
        break;
    case 2:
        snprintf(dzh, sizeof dzh, "%s%s%s“%s”第%d课时%s，%s。可用于课前预习、课堂教学和课后复习。",
                 grade_zh[grade], s->zh, vol_zh, topic->zh, lesson, aspect->zh, what_zh);
        snprintf(
            den, sizeof den,
            "%s %s, Vol. %d, \"%s\", lesson %d (%s): %s. Use it to prepare, in class or to review.",
            gen_, s->en, vol, topic->en, lesson, aspect->en, what_en);
        break;
    default:
        snprintf(dzh, sizeof dzh, "由%s提供的%s资源：%s（%s）。%s。", e->publisher, s->zh,
                 topic->zh, aspect->zh, what_zh);
        snprintf(den, sizeof den, "A %s resource on %s (%s): %s.", s->en, topic->en, aspect->en,
                 what_en);
        break;
    }

    /* Language: mostly Chinese; English lessons often in English; some Tibetan and Uyghur. */
    const char *lang = "zh";
    unsigned lr = rng_below(&r, 100);
    if (english ? lr < 60 : lr < 6)
        lang = "en";
    else if (lr >= 96)
        lang = "bo";
    else if (lr >= 93)
        lang = "ug";

    json_t *meta = json_object();
    json_object_set_new(meta, "id", json_string(id));
    json_t *title = json_object(), *desc = json_object();
    json_object_set_new(title, "zh", json_string(tzh));
    json_object_set_new(title, "en", json_string(ten));
    json_object_set_new(desc, "zh", json_string(dzh));
    json_object_set_new(desc, "en", json_string(den));
    if (strcmp(lang, "bo") == 0 || strcmp(lang, "ug") == 0) {
        char ml[1200];
        snprintf(ml, sizeof ml, "%s %d · %s", lang[0] == 'b' ? bo_lesson : ug_lesson, lesson, tzh);
        json_object_set_new(title, lang, json_string(ml));
    }
    json_object_set_new(meta, "title", title);
    json_object_set_new(meta, "description", desc);
    json_object_set_new(meta, "language", json_string(lang));
    json_object_set_new(meta, "subject", json_string(s->code));
    json_t *grades = json_array();
    json_array_append_new(grades, json_integer(grade));
    if (grade < s->gmax && rng_pct(&r, 8))
        json_array_append_new(grades, json_integer(grade + 1));
    json_object_set_new(meta, "grades", grades);
    json_object_set_new(meta, "edition", json_string(e->code));
    json_object_set_new(meta, "volume", json_string(vol_zh));
    json_object_set_new(meta, "unit", json_integer(unit));
    json_object_set_new(meta, "type", json_string(t->code));
    json_object_set_new(meta, "entry", json_string("index.html"));
    static const char *const licenses[] = {
        "CC-BY-NC-SA-4.0", "CC-BY-NC-SA-4.0", "CC-BY-NC-SA-4.0",   "CC-BY-4.0",
        "CC-BY-4.0",       "CC0-1.0",         "LicenseRef-edu-use"};
    json_object_set_new(meta, "license", json_string(licenses[rng_below(&r, N_OF(licenses))]));
    char pub[128];
    unsigned pr = rng_below(&r, 100);
    if (pr < 12)
        snprintf(pub, sizeof pub, "国家中小学智慧教育平台");
    else if (pr < 18)
        snprintf(pub, sizeof pub, "%s电化教育馆", provinces[rng_below(&r, N_OF(provinces))]);
    else
        snprintf(pub, sizeof pub, "%s", e->publisher);
    json_object_set_new(meta, "publisher", json_string(pub));

    /* Keywords: 2-6 distinct picks from a pool. */
    const char *pool[8] = {s->zh, topic->zh,  topic->en, grade_zh[grade],
                           e->zh, aspect->zh, t->zh,     s->en};
    unsigned nk = 2 + rng_below(&r, 5);
    json_t *kw = json_array();
    json_array_append_new(kw, json_string(pool[1])); /* the topic always */
    for (unsigned k = 0; k + 1 < nk; k++) {
        /* Partial Fisher-Yates over pool[2..7] so picks stay distinct. */
        unsigned j = 2 + k + rng_below(&r, 6 - k);
        const char *tmp = pool[j];
        pool[j] = pool[2 + k];
        pool[2 + k] = tmp;
        if (strcmp(pool[2 + k], pool[1]) != 0)
            json_array_append_new(kw, json_string(pool[2 + k]));
    }
    json_object_set_new(meta, "keywords", kw);

    /* Prerequisites: the first lesson of the two previous units of this
     * edition and volume, and the previous lesson of this unit. */
    json_t *pre = json_array();
    for (int pu = unit - 1; pu >= 1 && pu >= unit - 2; pu--) {
        int32_t p = G->first[GROUP_INDEX(su, grade, ed, vol, pu)];
        if (p >= 0) {
            ref rf = {p, (uint16_t)su, (uint16_t)grade, (uint16_t)ed, (uint16_t)vol, (uint16_t)pu};
            char pid[ID_BUF];
            ref_id(pid, sizeof pid, &rf);
            json_array_append_new(pre, json_string(pid));
        }
    }
    if (G->last[gi] >= 0) {
        ref rf = {G->last[gi],  (uint16_t)su,  (uint16_t)grade,
                  (uint16_t)ed, (uint16_t)vol, (uint16_t)unit};
        char pid[ID_BUF];
        ref_id(pid, sizeof pid, &rf);
        json_array_append_new(pre, json_string(pid));
    }
    json_object_set_new(meta, "prerequisites", pre);
    if (G->first[gi] < 0)
        G->first[gi] = (int32_t)i;
    G->last[gi] = (int32_t)i;

    /* Files: OUT_DIR/<id>/resource.json and index.html. */
    if (mkdirat(outfd, id, 0755) != 0 && errno != EEXIST)
        die("%s/%s: %s", out, id, strerror(errno));
    int dfd = openat(outfd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        die("%s/%s: %s", out, id, strerror(errno));
    char *js = json_dumps(meta, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(meta);
    if (!js)
        die("out of memory");
    size_t jl = strlen(js);
    write_file(dfd, id, "resource.json", js, jl, "\n");
    free(js);
    size_t hl = html_page(G->html, HTML_MAX, files_kb * 1024, &r, tzh, ten, s, topic, lang);
    write_file(dfd, id, "index.html", G->html, hl, NULL);
    close(dfd);
    G->files_bytes += hl + jl + 1;
}

/* ---- queries --------------------------------------------------------------- */

/* Bytes of the first n UTF-8 characters of s, 0 if s is shorter or any of
 * them is ASCII or punctuation (so every prefix is n Han characters). */
static size_t han_prefix(const char *s, int n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t off = 0;
    for (int k = 0; k < n; k++) {
        if (p[off] < 0xE0 || p[off] >= 0xF0)
            return 0; /* ASCII, 2-byte or 4-byte: not a BMP Han character */
        unsigned cp = ((p[off] & 0x0Fu) << 12) | ((p[off + 1] & 0x3Fu) << 6) | (p[off + 2] & 0x3Fu);
        if (cp < 0x4E00 || cp > 0x9FFF)
            return 0;
        off += 3;
    }
    return off;
}

/* 1 if the n bytes of s end in a particle or conjunction nobody would type
 * a search word with (的, 与, 和, 及, 以, 之). */
static int ends_particle(const char *s, size_t n)
{
    static const char *const tails[] = {"的", "与", "和", "及", "以", "之", "内", "我"};
    for (size_t k = 0; k < N_OF(tails); k++)
        if (n >= 3 && memcmp(s + n - 3, tails[k], 3) == 0)
            return 1;
    return 0;
}

typedef struct {
    char q[NQUERIES][128];
    int n;
} qlist;

static int qlist_add(qlist *Q, const char *s, size_t len)
{
    if (Q->n >= NQUERIES || len == 0 || len >= sizeof Q->q[0])
        return 0;
    for (int i = 0; i < Q->n; i++)
        if (strlen(Q->q[i]) == len && memcmp(Q->q[i], s, len) == 0)
            return 0;
    memcpy(Q->q[Q->n], s, len);
    Q->q[Q->n][len] = '\0';
    Q->n++;
    return 1;
}

static const term *random_topic(rng *r)
{
    const subject *s = &subjects[pick_weighted_subject(r)];
    return &s->topics[rng_below(r, (unsigned)s->ntopics)];
}

/* A lower-case English word of topic->en with at least minlen letters. */
static int english_word(rng *r, const term *t, char *buf, size_t cap, size_t minlen)
{
    static const char *const stop[] = {"the",   "and",  "with", "from", "their",
                                       "about", "into", "over", "for"};
    const char *words[16];
    size_t lens[16];
    int nw = 0;
    const char *p = t->en;
    while (*p && nw < 16) {
        while (*p && !((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
            p++;
        const char *st = p;
        while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
            p++;
        size_t l = (size_t)(p - st);
        if (l >= minlen && l < cap) {
            int skip = 0;
            for (size_t k = 0; k < N_OF(stop); k++)
                if (strlen(stop[k]) == l && strncasecmp(stop[k], st, l) == 0)
                    skip = 1;
            if (!skip) {
                words[nw] = st;
                lens[nw++] = l;
            }
        }
    }
    if (nw == 0)
        return 0;
    int w = (int)rng_below(r, (unsigned)nw);
    for (size_t k = 0; k < lens[w]; k++) {
        char c = words[w][k];
        buf[k] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    buf[lens[w]] = '\0';
    return (int)lens[w];
}

static void write_queries(const char *path, uint64_t seed)
{
    static const char *const single[] = {"水", "光", "力", "电", "圆", "春", "诗", "热", "声",
                                         "酸", "碱", "盐", "磁", "角", "线", "鹅", "柳", "雪",
                                         "河", "山", "史", "法", "歌", "画", "词", "字", "数",
                                         "形", "秋", "桥", "船", "树", "鱼", "花", "风", "月"};
    qlist *Q = calloc(1, sizeof *Q);
    if (!Q)
        die("out of memory");
    rng r = {seed ^ 0x5155455249455321ULL};
    char buf[128];
    int guard;

    /* Mix: 30 one-character, 45 two-character, 35 three-character words,
     * 20 whole topics, 15 subject/grade words, 35 English words, 20 English
     * prefixes. */
    for (guard = 0; Q->n < 30 && guard < 10000; guard++) {
        const char *s = single[rng_below(&r, N_OF(single))];
        qlist_add(Q, s, strlen(s));
    }
    int target = Q->n + 45;
    for (guard = 0; Q->n < target && guard < 10000; guard++) {
        const term *t = random_topic(&r);
        /* A four-character topic splits into two words (勾股 + 定理). */
        size_t skip = strlen(t->zh) == 12 && han_prefix(t->zh, 4) && rng_pct(&r, 40) ? 6 : 0;
        size_t n = han_prefix(t->zh + skip, 2);
        if (n && !ends_particle(t->zh + skip, n))
            qlist_add(Q, t->zh + skip, n);
    }
    target = Q->n + 35;
    for (guard = 0; Q->n < target && guard < 10000; guard++) {
        const term *t = random_topic(&r);
        size_t n = han_prefix(t->zh, 3);
        if (n && !ends_particle(t->zh, n))
            qlist_add(Q, t->zh, n);
    }
    target = Q->n + 20;
    for (guard = 0; Q->n < target && guard < 10000; guard++) {
        const term *t = random_topic(&r);
        size_t n = strlen(t->zh);
        if (n >= 9 && n <= 24 && han_prefix(t->zh, (int)(n / 3)) == n)
            qlist_add(Q, t->zh, n);
    }
    target = Q->n + 15;
    for (guard = 0; Q->n < target && guard < 10000; guard++) {
        const subject *s = &subjects[rng_below(&r, NSUBJECTS)];
        switch (rng_below(&r, 3)) {
        case 0:
            qlist_add(Q, s->zh, strlen(s->zh));
            break;
        case 1:
            snprintf(buf, sizeof buf, "%s %s", s->zh,
                     grade_zh[s->gmin + (int)rng_below(&r, (unsigned)(s->gmax - s->gmin + 1))]);
            qlist_add(Q, buf, strlen(buf));
            break;
        default: {
            const char *ez = editions[s->editions[0] - '0'].zh;
            snprintf(buf, sizeof buf, "%s %s", ez, s->zh);
            qlist_add(Q, buf, strlen(buf));
        }
        }
    }
    target = Q->n + 35;
    for (guard = 0; Q->n < target && guard < 10000; guard++) {
        int n = english_word(&r, random_topic(&r), buf, sizeof buf, 4);
        if (n > 0)
            qlist_add(Q, buf, (size_t)n);
    }
    for (guard = 0; Q->n < NQUERIES && guard < 10000; guard++) {
        int n = english_word(&r, random_topic(&r), buf, sizeof buf, 6);
        if (n > 0) {
            n = 3 + (int)rng_below(&r, 3);
            buf[n] = '*';
            buf[n + 1] = '\0';
            qlist_add(Q, buf, (size_t)n + 1);
        }
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        die("%s: %s", path, strerror(errno));
    for (int i = 0; i < Q->n; i++)
        fprintf(f, "%s\n", Q->q[i]);
    if (fclose(f) != 0)
        die("%s: write failed", path);
    free(Q);
}

/* ---- main ------------------------------------------------------------------ */

static void usage(void)
{
    fputs("usage: cistern-gencat OUT_DIR N [--seed S] [--files-kb K] [--queries FILE]\n", stderr);
    exit(2);
}

static long parse_long(const char *s, const char *what, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        die("%s: not a number in %ld..%ld: \"%s\"", what, min, max, s);
    return v;
}

int main(int argc, char **argv)
{
    const char *out = NULL, *queries = NULL;
    long n = -1, kb = 2;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--seed") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            seed = strtoull(argv[++i], &end, 0);
            if (errno || *end || end == argv[i])
                die("--seed: not a number: \"%s\"", argv[i]);
        } else if (strcmp(a, "--files-kb") == 0 && i + 1 < argc) {
            kb = parse_long(argv[++i], "--files-kb", 0, GENCAT_MAX_KB);
        } else if (strcmp(a, "--queries") == 0 && i + 1 < argc) {
            queries = argv[++i];
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage();
        } else if (a[0] == '-' && a[1]) {
            die("unknown option \"%s\"", a);
        } else if (!out) {
            out = a;
        } else if (n < 0) {
            n = parse_long(a, "N", 0, GENCAT_MAX_N);
        } else {
            usage();
        }
    }
    if (!out || n < 0)
        usage();

    gen *G = malloc(sizeof *G);
    if (!G)
        die("out of memory");
    memset(G->first, 0xFF, sizeof G->first);
    memset(G->last, 0xFF, sizeof G->last);
    memset(G->count, 0, sizeof G->count);
    G->files_bytes = 0;
    G->html = malloc(HTML_MAX);
    if (!G->html)
        die("out of memory");

    cs_err err = {0};
    if (cs_mkdirs(out, 0755, &err) != 0)
        die("%s: %s", out, err.msg);
    int outfd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (outfd < 0)
        die("%s: %s", out, strerror(errno));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        gen_one(G, out, outfd, i, seed, (size_t)kb);
        if ((i + 1) % 10000 == 0 || i + 1 == n) {
            clock_gettime(CLOCK_MONOTONIC, &t1);
            fprintf(stderr, "cistern-gencat: %ld/%ld resources, %.1f MB, %.1f s\n", i + 1, n,
                    (double)G->files_bytes / 1e6,
                    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
        }
    }
    if (queries)
        write_queries(queries, seed);
    close(outfd);
    free(G->html);
    free(G);
    return 0;
}
