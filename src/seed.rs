//! Content for a new site and for benchmarks.
//!
//! `seed_demo` loads a small newsroom (an editor, four authors with bios,
//! tags, a dozen articles, one draft and one scheduled) through the same
//! content rules as the API, so every article has its rendering, excerpt,
//! revision and tag links. Only the demo editor can sign in, with a random
//! password the caller prints once; the authors' accounts are locked (an
//! admin can set a password for them).
//!
//! `seed_articles` makes N synthetic published articles for load tests:
//! rows are written in transactions of `BATCH` and bodies are built as HTML
//! directly instead of going through Markdown and the sanitiser.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::Rng;
use rand::distr::Alphanumeric;

use crate::articles::content::{self, Changes};
use crate::articles::dto::{ArticleStatus, BodyFormat, Snapshot, TagRef};
use crate::articles::queries::{self as articles, ArticleContent, NewArticle};
use crate::articles::render;
use crate::auth::{AuthUser, Role};
use crate::db::DbConnection;
use crate::db::schema::{self, article_revisions, article_tags};
use crate::users::queries::{self as user_queries, AccountInput};

/// Rows per transaction in `seed_articles`.
pub const BATCH: u64 = 1000;
/// The demo editor's sign-in. Demo only: delete it before going live.
pub const DEMO_EDITOR_EMAIL: &str = "editor@demo.newsdesk.dev";
/// Stored as the password hash of accounts that cannot sign in: not a PHC
/// string, so no password ever verifies against it.
pub const LOCKED_PASSWORD_HASH: &str = "!locked";

/// What `seed_demo` made, including the demo editor's one-time password.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    pub editor_email: String,
    pub editor_password: String,
    pub authors: usize,
    pub tags: usize,
    pub articles: usize,
}

impl std::fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "Demo newsroom loaded: {} authors, {} tags, {} articles (one draft, one scheduled).",
            self.authors, self.tags, self.articles
        )?;
        writeln!(
            f,
            "Demo editor (for trying the API only; delete this account before going live):"
        )?;
        writeln!(f, "  email:    {}", self.editor_email)?;
        write!(f, "  password: {}", self.editor_password)
    }
}

struct DemoAuthor {
    name: &'static str,
    email: &'static str,
    bio: &'static str,
}

const AUTHORS: &[DemoAuthor] = &[
    DemoAuthor {
        name: "Daniel Kim",
        email: "daniel.kim@demo.newsdesk.dev",
        bio: "Seoul correspondent covering the two Koreas, human rights and regional diplomacy.",
    },
    DemoAuthor {
        name: "Lena Fischer",
        email: "lena.fischer@demo.newsdesk.dev",
        bio: "Europe economics editor based in Frankfurt. Writes about central banks, trade and energy.",
    },
    DemoAuthor {
        name: "James Okafor",
        email: "james.okafor@demo.newsdesk.dev",
        bio: "Technology and culture reporter in Lagos, following startups, power and the arts.",
    },
    DemoAuthor {
        name: "Maria Santos",
        email: "maria.santos@demo.newsdesk.dev",
        bio: "Metro and climate reporter. Previously covered city hall for a decade.",
    },
];

const TAGS: &[(&str, &str, &str)] = &[
    (
        "north-korea",
        "North Korea",
        "News from and about the DPRK.",
    ),
    (
        "south-korea",
        "South Korea",
        "Politics, society and the economy of the Republic of Korea.",
    ),
    (
        "human-rights",
        "Human Rights",
        "Civil liberties, refugees and accountability.",
    ),
    (
        "diplomacy",
        "Diplomacy",
        "Summits, alliances and negotiations.",
    ),
    (
        "economy",
        "Economy",
        "Markets, central banks, jobs and prices.",
    ),
    ("europe", "Europe", "The European Union and its neighbours."),
    (
        "climate",
        "Climate",
        "Climate change, adaptation and the energy transition.",
    ),
    (
        "technology",
        "Technology",
        "Startups, infrastructure and the people who build them.",
    ),
    ("culture", "Culture", "Arts, heritage and ideas."),
    ("city", "City", "Transport, housing and local government."),
];

struct DemoArticle {
    title: &'static str,
    subtitle: Option<&'static str>,
    author: usize,
    tags: &'static [&'static str],
    /// Days before now; negative means scheduled in the future.
    days_ago: i64,
    status: ArticleStatus,
    body: &'static str,
}

const FIGHTING_FOR_FREEDOM: &str = r#"SEOUL — South Korea and the United States on Thursday agreed to step up joint efforts to document human rights abuses in North Korea and to press for the release of detained foreigners and abductees, officials from both governments said after a day of talks in the South Korean capital.

The meeting brought together diplomats, lawyers and representatives of civil society groups who work with North Korean defectors. It was the first high-level consultation dedicated solely to human rights since the allies revived the format last year, after a pause of several years in which nuclear negotiations dominated their agenda.

"Security and human rights are not separate files," said a senior South Korean foreign ministry official who briefed reporters on condition of anonymity, in line with diplomatic practice. "The same system that builds missiles also runs political prison camps. We cannot address one while ignoring the other."

## What was agreed

According to a joint statement released after the talks, the two governments will:

- fund an expanded archive of testimony from defectors, kept outside the Korean peninsula so that evidence survives any change in policy;
- coordinate their statements at the United Nations Human Rights Council and the General Assembly;
- raise the cases of South Korean detainees and of families separated since the 1950–53 Korean War in every contact with Pyongyang;
- support independent radio and digital broadcasts that carry outside news into North Korea.

North Korea rejects all criticism of its human rights record as a hostile attempt to topple its government. Its state media did not immediately comment on the talks.

## A shrinking stream of witnesses

Rights groups say the task of documenting abuses has become harder since North Korea sealed its borders at the start of the coronavirus pandemic. The number of defectors reaching the South fell from more than a thousand a year to a few dozen, and has recovered only slowly.

| Year | Defectors arriving in South Korea |
|------|----------------------------------:|
| 2019 | 1,047 |
| 2020 | 229 |
| 2021 | 63 |
| 2022 | 67 |
| 2023 | 196 |

"Every testimony we lose is a piece of history that nobody can reconstruct later," said Lee Soo-jin, a researcher at a Seoul-based documentation center that has recorded more than 80,000 alleged violations. "Families are waiting for answers about people who disappeared decades ago. Some of them are now in their nineties."

## Pressure without engagement

Analysts said the agreement signals a shift in tone rather than a change in strategy. Washington and Seoul remain open to talks with Pyongyang without preconditions, officials said, but they no longer want human rights to be traded away for progress on weapons.

"The message is that the door is open, but the lights are on," said Park Min-ho, a professor of international relations in Seoul. "If there is ever a negotiation, these issues will be on the table from the first day."

The two sides plan to meet again in Washington early next year, and to invite Japan, whose citizens were abducted by North Korean agents in the 1970s and 1980s, to join a broader working group."#;

const ARTICLES: &[DemoArticle] = &[
    DemoArticle {
        title: "Fighting for Freedom: U.S. and South Korea Seek Solutions for North Korean Human Rights Issues",
        subtitle: Some(
            "Allies agree to expand documentation of abuses and coordinate pressure at the United Nations",
        ),
        author: 0,
        tags: &["north-korea", "human-rights", "diplomacy", "south-korea"],
        days_ago: 1,
        status: ArticleStatus::Published,
        body: FIGHTING_FOR_FREEDOM,
    },
    DemoArticle {
        title: "Separated by War, Korean Families Race the Clock for Video Reunions",
        subtitle: Some(
            "Fewer than 40,000 registered applicants are still alive, most of them over 80",
        ),
        author: 0,
        tags: &["south-korea", "north-korea", "human-rights"],
        days_ago: 4,
        status: ArticleStatus::Published,
        body: r#"INCHEON — Kim Young-ja was nine when she last saw her older brother, on a road crowded with refugees in the winter of 1950. Now 83, she keeps his school photograph in a plastic sleeve and takes it to every information session held by the Red Cross.

"I only want to know whether he had children," she said. "If they are alive, I want them to know that someone here remembers him."

South Korea's government this week renewed its call for regular video reunions with relatives in the North, a programme that connected several hundred families between 2005 and 2007 before it was suspended. Officials say studios built for the purpose in Seoul and in provincial Red Cross offices are still maintained and could be switched on within weeks.

The number of South Koreans registered as separated family members has fallen below 40,000, from more than 130,000 at the peak, because most applicants have died. Nearly two thirds of those still alive are over 80.

Pyongyang has not responded to the proposal. Aid workers say the North has in the past tied family reunions to demands for food and fertiliser shipments, and that the current freeze in relations leaves little room for a deal.

For Ms. Kim, the uncertainty is the hardest part. "They tell me to be patient," she said. "I have been patient for seventy years.""#,
    },
    DemoArticle {
        title: "Defectors Describe Life Behind Tightened Border Controls",
        subtitle: None,
        author: 0,
        tags: &["north-korea", "human-rights"],
        days_ago: 9,
        status: ArticleStatus::Published,
        body: r#"SEOUL — New fences, motion sensors and orders to shoot on sight have made crossing from North Korea into China more dangerous than at any time in the past three decades, according to defectors who arrived in the South this year.

Three people interviewed for this article, who asked that their names be withheld to protect relatives still in the North, described a border zone in which a buffer strip of one to two kilometres was declared off limits, and in which smugglers who once moved goods and people for bribes have largely stopped working.

"Before, money could open the door," said a woman in her forties from Hyesan, a city on the Yalu River. "Now the guards are afraid of being punished themselves. Nobody wants to take the risk."

The defectors said market prices for rice and corn rose sharply when trade with China was cut, and that state rations did not fill the gap. Two of them said they knew families who had sold their homes to buy food.

Rights groups say such accounts are difficult to verify independently but are consistent with satellite imagery showing new fortifications along the frontier. The United Nations has urged China not to return people who escape, saying they face torture and imprisonment on their return. Beijing considers them illegal economic migrants."#,
    },
    DemoArticle {
        title: "European Central Bank Holds Rates Steady as Inflation Cools",
        subtitle: Some(
            "Policymakers signal patience despite calls from southern members for faster cuts",
        ),
        author: 1,
        tags: &["economy", "europe"],
        days_ago: 2,
        status: ArticleStatus::Published,
        body: r#"FRANKFURT — The European Central Bank left its key interest rates unchanged on Thursday, saying that inflation in the euro zone was moving towards its 2 percent target but that it wanted more evidence before easing policy further.

The decision had been widely expected by investors. The bank's deposit rate stays at the level it reached after a series of cuts, and the statement repeated that future moves would be decided "meeting by meeting" on the basis of incoming data.

Consumer prices in the currency area rose at an annual rate slightly above target last month, down from a peak of more than 10 percent two years ago. Services inflation, which reflects wages more closely, has been slower to fall.

Several governments in southern Europe have called for faster cuts to support growth and lower the cost of servicing public debt. Officials from northern countries have argued that easing too quickly risks a return of price pressures, particularly if energy costs rise again in the winter.

"The last mile is always the hardest," the bank's president told reporters. "We are not on a pre-set path."

Economists said the tone suggested one or two further cuts next year rather than a rapid series. The euro was little changed against the dollar after the announcement."#,
    },
    DemoArticle {
        title: "Analysis: What the Geneva Trade Talks Did and Did Not Achieve",
        subtitle: None,
        author: 1,
        tags: &["economy", "diplomacy", "europe"],
        days_ago: 6,
        status: ArticleStatus::Published,
        body: r#"GENEVA — After four days of negotiations, trade ministers left Geneva with a short communiqué, a promise to meet again and very little that will change the price of goods in the shops.

**What they agreed.** Ministers extended a moratorium on customs duties for electronic transmissions for two more years, a relief for software and streaming companies. They also adopted a work programme on fisheries subsidies, which many delegates see as the most realistic candidate for a binding agreement next year.

**What they did not.** There was no deal on agricultural stockholding, the long-running demand of large developing countries, and no progress on reviving the organisation's dispute settlement system, whose appellate body has not functioned for years.

**Why it matters.** Without a working referee, trade disputes are increasingly settled by retaliation rather than rulings. Smaller economies, which lack the leverage to retaliate, are the most exposed.

Diplomats said the mood was better than at previous meetings, and that informal talks between the largest economies had helped avoid an open breakdown. "Nobody walked out," one European negotiator said. "These days, that counts as a result.""#,
    },
    DemoArticle {
        title: "Heatwave Tests Power Grids Across Southern Europe",
        subtitle: Some(
            "Record demand for air conditioning pushes prices to the highest level since 2022",
        ),
        author: 1,
        tags: &["climate", "europe", "economy"],
        days_ago: 12,
        status: ArticleStatus::Published,
        body: r#"MADRID — Temperatures above 44 degrees Celsius in parts of Spain, Portugal and Italy pushed electricity demand to record levels this week, forcing grid operators to import power from neighbouring countries and to ask industrial users to cut consumption during the hottest hours.

Wholesale prices in the Iberian market rose more than threefold in the evening peak, when solar generation fades but air conditioners are still running. Operators said the system had held up, but warned that the margin between supply and demand had been thinner than in any summer on record.

Rivers used to cool thermal power stations were also running low and warm, limiting output at several plants in France and Italy.

Energy analysts said the episode showed the value of batteries and interconnectors that can move solar power from the middle of the day into the evening. "We have built a lot of panels," said one grid planner in Madrid. "Now we need to build the things that let us use them at seven o'clock at night."

Health authorities in the three countries issued red alerts and opened cooling centres in public buildings."#,
    },
    DemoArticle {
        title: "Lagos Startups Bet on Solar Microgrids to Beat Power Cuts",
        subtitle: None,
        author: 2,
        tags: &["technology", "climate"],
        days_ago: 3,
        status: ArticleStatus::Published,
        body: r#"LAGOS — In a market in the north of the city, a row of shops that used to run on diesel generators now shares a bank of solar panels on the roof of a warehouse, and a battery the size of a refrigerator in a locked room behind it.

The shop owners pay for electricity through an app, in small amounts, the way they top up their phones. "The generator was eating my profit," said Bisi Adeyemi, who sells fabrics. "Now I know what I spend every week."

The system was built by one of a dozen young companies that are trying to solve Nigeria's chronic power shortages from the bottom up. Investors have poured money into the sector as the cost of panels and batteries has fallen and the removal of fuel subsidies has made diesel far more expensive.

The companies face obstacles: import duties on equipment, theft, and customers whose incomes have been squeezed by inflation. Several founders said they were moving from selling hardware to selling power as a service, so that customers do not have to pay large sums up front.

Regulators have begun licensing mini-grid operators in areas where the national grid is unreliable, a step the industry says gives it the certainty it needs to raise long-term finance."#,
    },
    DemoArticle {
        title: "Inside the Race to Build Cheaper Batteries",
        subtitle: Some("Sodium, iron and a lot of patience"),
        author: 2,
        tags: &["technology", "climate"],
        days_ago: 15,
        status: ArticleStatus::Published,
        body: r#"The lithium-ion battery has become the workhorse of the energy transition, powering phones, cars and, increasingly, the electricity grid. But its ingredients are concentrated in a handful of countries and their prices swing wildly, and a growing number of companies are betting on alternatives.

Sodium-ion cells, which replace lithium with an element extracted from ordinary salt, have moved from laboratories into factories in the past two years. They store less energy for their weight, which matters in a car, but much less in a shipping container parked next to a solar farm.

Iron-air batteries, which "rust" and "un-rust" iron pellets to store and release energy, promise to hold power for days rather than hours, at a fraction of the cost. They are heavy and slow, but for a grid that needs to ride through a windless week, those may not be drawbacks.

"There is no single winner," said a battery researcher who has advised several startups. "The question is which chemistry fits which job, and who can manufacture at scale without losing money for ten years first."

Analysts expect lithium-ion to dominate for the rest of the decade, with the newer chemistries winning specific niches, starting with stationary storage."#,
    },
    DemoArticle {
        title: "Museum Returns Looted Bronzes in Emotional Ceremony",
        subtitle: None,
        author: 2,
        tags: &["culture"],
        days_ago: 20,
        status: ArticleStatus::Published,
        body: r#"BENIN CITY — Drummers and chiefs in ceremonial coral beads lined the palace courtyard on Saturday as twenty bronze plaques and heads, taken by British soldiers in 1897, were handed back by a European museum.

The objects, cast by the royal guild of brass-smiths, had been on display for more than a century. Their return follows years of campaigning by Nigerian officials and scholars and a broader shift in how museums view collections acquired during colonial expeditions.

"These are not works of art to us first," said a member of the royal court. "They are records. They tell us who ruled, who fought, and what happened in our history."

The museum's director said that returning the works was "the beginning of a relationship, not the end of one," and that the two institutions would collaborate on research and future exhibitions.

A new museum is being built in the city to house returned objects. Until it opens, the bronzes will be kept in the palace."#,
    },
    DemoArticle {
        title: "City Council Approves Expansion of Night Bus Network",
        subtitle: Some("Eight new routes will serve hospital, airport and warehouse workers"),
        author: 3,
        tags: &["city"],
        days_ago: 5,
        status: ArticleStatus::Published,
        body: r#"The city council voted 11 to 4 on Tuesday to add eight overnight bus routes from the spring, the largest expansion of the night network in more than twenty years.

The new routes will link the airport, the two largest hospitals and the logistics parks on the eastern edge of the city with the central bus station, running every 20 to 30 minutes between midnight and five in the morning.

Supporters said the change would help tens of thousands of people who work night shifts and who now rely on taxis or long walks. "Cleaners, nurses, bakers and warehouse pickers keep this city running while the rest of us sleep," said the councillor who proposed the plan. "They deserve a bus."

Opponents questioned the cost, estimated at several million a year, and asked whether demand would justify it. The transit agency said it would publish ridership figures after six months and adjust frequencies accordingly.

The plan also includes better lighting and shelters at 40 stops."#,
    },
    DemoArticle {
        title: "Coastal Towns Weigh Managed Retreat as Seas Rise",
        subtitle: None,
        author: 3,
        tags: &["climate", "city"],
        days_ago: 8,
        status: ArticleStatus::Published,
        body: r#"The sea wall in front of the harbour has been raised twice in thirty years. Engineers say a third raising would cost more than the houses behind it are worth.

Faced with that arithmetic, a handful of coastal towns have begun to discuss what planners call managed retreat: buying out homes in the most exposed streets, turning the land into marshes and dunes that absorb storm surges, and helping residents move inland.

The idea is painful. Many families have lived by the water for generations, and fishing and tourism depend on it. At a public meeting last month, one resident said she would "leave in a box, not in a moving van."

Officials stress that any programme would be voluntary at first, and that the alternative is not staying put forever but a disorderly retreat after a disaster. Insurance premiums in the lowest-lying streets have already doubled.

A regional fund for buyouts is expected to be debated in the spring, alongside new rules that would stop construction in areas projected to flood regularly by 2050."#,
    },
    DemoArticle {
        title: "Local Elections: What to Watch in the Mayor's Race",
        subtitle: Some("Draft: needs polling figures before publication"),
        author: 3,
        tags: &["city"],
        days_ago: 0,
        status: ArticleStatus::Draft,
        body: r#"With six weeks to go, the race for mayor has narrowed to three candidates with very different ideas about housing, transport and the city budget.

TODO: add the latest polling numbers and a short profile of each candidate.

The incumbent is running on a record of building affordable homes and expanding bus lanes. The main challenger promises to cut property taxes and review the congestion charge. A third candidate, a former school principal, has gained ground with a campaign focused on schools and public safety."#,
    },
    DemoArticle {
        title: "Ahead of the Summit: Five Questions for Leaders in Brussels",
        subtitle: Some("Defence spending, enlargement and the budget top the agenda"),
        author: 1,
        tags: &["europe", "diplomacy"],
        days_ago: -2,
        status: ArticleStatus::Published,
        body: r#"BRUSSELS — European leaders meet later this week for a summit that officials describe as "heavy on decisions and light on money." Here are the questions that will shape the talks.

1. **How much more for defence?** Governments agree that they must spend more, but not on whether to borrow together to do it.
2. **How fast should the union grow?** Candidate countries want dates; several members want reforms first.
3. **Who pays for the next budget?** Net contributors want the total capped; farmers and regions want their shares protected.
4. **What to do about energy prices?** Industry is pressing for relief as competitors abroad pay less for power.
5. **Can unanimity survive?** A single government can still block foreign policy decisions, and some leaders want to change that.

Diplomats expect the summit to run late into the night, as they usually do."#,
    },
];

fn random_password() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(char::from)
        .collect()
}

/// Loads the demo newsroom in one transaction. Fails (changing nothing)
/// when the demo editor already exists.
pub fn seed_demo(conn: &mut DbConnection) -> anyhow::Result<DemoSummary> {
    let editor_password = random_password();
    let editor_hash = crate::auth::password::hash(&editor_password)?;
    conn.transaction::<_, anyhow::Error, _>(|conn| {
        if user_queries::find_by_email(conn, DEMO_EDITOR_EMAIL)?.is_some() {
            anyhow::bail!("the demo content is already loaded ({DEMO_EDITOR_EMAIL} exists)");
        }
        let now = crate::time::now();
        let editor = user_queries::create_account(
            conn,
            AccountInput {
                email: DEMO_EDITOR_EMAIL.into(),
                name: "Grace Park".into(),
                role: Role::Editor.as_str().into(),
                bio: Some("Managing editor of the demo newsroom.".into()),
                avatar_url: None,
                password_hash: editor_hash,
            },
        )?;
        let mut author_ids = Vec::with_capacity(AUTHORS.len());
        for a in AUTHORS {
            if user_queries::find_by_email(conn, a.email)?.is_some() {
                anyhow::bail!("the demo content is already loaded ({} exists)", a.email);
            }
            let row = user_queries::create_account(
                conn,
                AccountInput {
                    email: a.email.into(),
                    name: a.name.into(),
                    role: Role::Author.as_str().into(),
                    bio: Some(a.bio.into()),
                    avatar_url: None,
                    password_hash: LOCKED_PASSWORD_HASH.into(),
                },
            )?;
            author_ids.push(row.id);
        }
        for (slug, name, description) in TAGS {
            if crate::tags::queries::slug_taken(conn, slug, None)? {
                continue;
            }
            crate::tags::queries::insert(conn, slug, name, Some(description), now)?;
        }
        let caller = AuthUser {
            id: editor.id,
            role: Role::Editor,
        };
        for a in ARTICLES {
            let published_at = now - Duration::days(a.days_ago) - Duration::hours(3);
            let changes = Changes {
                title: Some(a.title.into()),
                body: Some(a.body.into()),
                body_format: Some(BodyFormat::Markdown),
                subtitle: Some(a.subtitle.map(str::to_string)),
                status: Some(a.status),
                published_at: (a.status != ArticleStatus::Draft).then_some(Some(published_at)),
                tags: Some(a.tags.iter().map(|t| t.to_string()).collect()),
                author_id: author_ids.get(a.author).copied(),
                ..Changes::default()
            };
            content::create(conn, &caller, changes, now)?;
        }
        Ok(DemoSummary {
            editor_email: DEMO_EDITOR_EMAIL.into(),
            editor_password: editor_password.clone(),
            authors: AUTHORS.len(),
            tags: TAGS.len(),
            articles: ARTICLES.len(),
        })
    })
}

const WORDS: &[&str] = &[
    "government",
    "minister",
    "council",
    "election",
    "policy",
    "budget",
    "market",
    "economy",
    "inflation",
    "growth",
    "workers",
    "union",
    "strike",
    "talks",
    "agreement",
    "summit",
    "border",
    "security",
    "defence",
    "police",
    "court",
    "judge",
    "ruling",
    "appeal",
    "law",
    "parliament",
    "vote",
    "campaign",
    "candidate",
    "poll",
    "survey",
    "report",
    "study",
    "researchers",
    "scientists",
    "university",
    "school",
    "students",
    "teachers",
    "hospital",
    "doctors",
    "patients",
    "health",
    "vaccine",
    "climate",
    "energy",
    "power",
    "grid",
    "solar",
    "wind",
    "oil",
    "gas",
    "prices",
    "fuel",
    "transport",
    "rail",
    "airport",
    "flights",
    "port",
    "shipping",
    "trade",
    "exports",
    "imports",
    "tariffs",
    "companies",
    "startup",
    "investors",
    "shares",
    "bank",
    "rates",
    "debt",
    "housing",
    "rents",
    "city",
    "village",
    "region",
    "province",
    "capital",
    "residents",
    "families",
    "children",
    "farmers",
    "harvest",
    "water",
    "river",
    "flood",
    "storm",
    "drought",
    "heat",
    "fire",
    "forest",
    "coast",
    "sea",
    "island",
    "festival",
    "museum",
    "artists",
    "film",
    "music",
    "book",
    "award",
    "team",
    "match",
    "season",
    "coach",
    "players",
    "fans",
    "stadium",
    "record",
    "history",
    "officials",
    "spokesperson",
    "statement",
    "plan",
    "proposal",
    "reform",
    "crisis",
    "response",
    "aid",
    "support",
    "funding",
    "cuts",
    "jobs",
    "wages",
    "costs",
    "demand",
    "supply",
    "technology",
    "software",
    "data",
    "privacy",
    "internet",
    "network",
    "phone",
    "satellite",
    "space",
    "mission",
    "launch",
    "weather",
    "morning",
    "evening",
    "week",
    "month",
    "year",
    "decade",
    "future",
    "past",
    "local",
    "national",
    "international",
    "foreign",
    "domestic",
    "public",
    "private",
    "new",
    "old",
    "large",
    "small",
    "early",
    "late",
    "major",
    "minor",
    "key",
    "final",
    "first",
    "last",
    "said",
    "says",
    "announced",
    "warned",
    "expected",
    "agreed",
    "rejected",
    "approved",
    "opened",
    "closed",
    "rose",
    "fell",
    "grew",
    "slowed",
    "increased",
    "reduced",
    "started",
    "ended",
];

const TOPICS: &[&str] = &[
    "politics",
    "economy",
    "world",
    "business",
    "technology",
    "science",
    "health",
    "climate",
    "energy",
    "education",
    "culture",
    "sport",
    "travel",
    "transport",
    "housing",
    "city",
    "justice",
    "security",
    "diplomacy",
    "trade",
    "agriculture",
    "media",
    "space",
    "weather",
    "europe",
    "asia",
    "africa",
    "americas",
    "middle-east",
    "oceania",
    "elections",
    "labour",
    "finance",
    "markets",
    "startups",
    "research",
    "arts",
    "books",
    "film",
    "music",
];

const BENCH_AUTHORS: usize = 25;

fn sentence(rng: &mut impl Rng, words: usize) -> String {
    let mut s = String::with_capacity(words * 8);
    for i in 0..words {
        let w = WORDS[rng.random_range(0..WORDS.len())];
        if i == 0 {
            let mut c = w.chars();
            if let Some(first) = c.next() {
                s.extend(first.to_uppercase());
                s.push_str(c.as_str());
            }
        } else {
            s.push(' ');
            s.push_str(w);
        }
    }
    s.push('.');
    s
}

/// The benchmark authors (made on first use, locked like the demo authors).
fn bench_authors(conn: &mut DbConnection) -> anyhow::Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(BENCH_AUTHORS);
    for i in 1..=BENCH_AUTHORS {
        let email = format!("bench-author-{i}@bench.newsdesk.invalid");
        let id = match user_queries::find_by_email(conn, &email)? {
            Some(u) => u.id,
            None => {
                user_queries::create_account(
                    conn,
                    AccountInput {
                        email,
                        name: format!("Bench Author {i}"),
                        role: Role::Author.as_str().into(),
                        bio: Some("A synthetic author for benchmarks.".into()),
                        avatar_url: None,
                        password_hash: LOCKED_PASSWORD_HASH.into(),
                    },
                )?
                .id
            }
        };
        ids.push(id);
    }
    Ok(ids)
}

/// Makes `n` synthetic published articles (1 to 5 tags each, spread over
/// 25 authors and the last two years, with random counters), in
/// transactions of `BATCH` with one multi-row insert per table. `progress`
/// is called with the number written so far after each batch.
pub fn seed_articles(
    conn: &mut DbConnection,
    n: u64,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<u64> {
    let now = crate::time::now();
    let (authors, topic_tags) = conn.transaction::<_, anyhow::Error, _>(|conn| {
        let authors = bench_authors(conn)?;
        let slugs: Vec<String> = TOPICS.iter().map(|t| t.to_string()).collect();
        let tags = crate::tags::queries::ensure_by_slugs(conn, &slugs, now)?;
        Ok((authors, tags))
    })?;
    // A run token keeps slugs unique across runs without a lookup per row.
    let run: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(6)
        .map(|c| char::from(c).to_ascii_lowercase())
        .collect();
    let mut rng = rand::rng();
    let mut done = 0u64;
    while done < n {
        let batch = BATCH.min(n - done);
        let items: Vec<Synthetic> = (0..batch)
            .map(|i| synthetic(&mut rng, &run, done + i + 1, now, &authors, &topic_tags))
            .collect::<anyhow::Result<_>>()?;
        conn.transaction::<_, anyhow::Error, _>(|conn| insert_batch(conn, items))?;
        done += batch;
        progress(done);
    }
    Ok(done)
}

/// One synthetic article, ready to insert.
struct Synthetic {
    article: NewArticle,
    tags: Vec<i64>,
    snapshot: String,
}

fn synthetic(
    rng: &mut impl Rng,
    run: &str,
    seq: u64,
    now: NaiveDateTime,
    authors: &[i64],
    topic_tags: &[TagRef],
) -> anyhow::Result<Synthetic> {
    let title_words = rng.random_range(5..11);
    let title = sentence(rng, title_words);
    let title = title.trim_end_matches('.').to_string();
    let base = crate::slug::slugify(&title).unwrap_or_else(|| "article".into());
    let base: String = base.chars().take(80).collect();
    let slug = format!("{}-{run}-{seq}", base.trim_end_matches('-'));
    let paragraphs: Vec<String> = (0..rng.random_range(3..6))
        .map(|_| {
            (0..rng.random_range(3..6))
                .map(|_| {
                    let len = rng.random_range(8..18);
                    sentence(rng, len)
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    // Words and full stops only: the HTML needs no escaping or sanitising.
    let body = paragraphs.join("\n\n");
    let body_html: String = paragraphs.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    let body_text = paragraphs.join("\n");
    let published_at = now - Duration::seconds(rng.random_range(60..2 * 365 * 86_400));
    let author_id = authors[rng.random_range(0..authors.len())];
    let mut tags: Vec<TagRef> = Vec::new();
    for _ in 0..rng.random_range(1..6) {
        let t = &topic_tags[rng.random_range(0..topic_tags.len())];
        if !tags.iter().any(|x| x.id == t.id) {
            tags.push(t.clone());
        }
    }
    let snapshot = serde_json::to_string(&Snapshot {
        title: title.clone(),
        slug: slug.clone(),
        subtitle: None,
        excerpt: None,
        body: body.clone(),
        body_format: BodyFormat::Markdown,
        status: ArticleStatus::Published,
        published_at: Some(crate::time::to_api(published_at)),
        feature_image: None,
        feature_image_id: None,
        comments_enabled: true,
        meta_title: None,
        meta_description: None,
        canonical_url: None,
        author_id,
        tags: tags.clone(),
    })?;
    let content = ArticleContent {
        slug,
        title,
        subtitle: None,
        custom_excerpt: None,
        excerpt: render::excerpt(&body_text, render::EXCERPT_CHARS),
        reading_time_minutes: render::reading_time(&body_text),
        body,
        body_format: BodyFormat::Markdown.as_str().into(),
        body_html,
        body_text,
        status: ArticleStatus::Published.as_str().into(),
        published_at: Some(published_at),
        updated_at: published_at,
        version: 1,
        feature_image: None,
        comments_enabled: true,
        meta_title: None,
        meta_description: None,
        canonical_url: None,
        author_id,
        feature_image_id: None,
    };
    Ok(Synthetic {
        article: NewArticle {
            content,
            created_at: published_at,
            // Lifetime counters for the popular list and the counter sorts.
            view_count: rng.random_range(0..20_000),
            comment_count: rng.random_range(0..300),
        },
        tags: tags.iter().map(|t| t.id).collect(),
        snapshot,
    })
}

/// Multi-row inserts need the backend's own connection: diesel's
/// `MultiConnection` cannot batch-insert on SQLite. The same text is
/// compiled for each backend.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            DbConnection::Sqlite(c) => diesel::insert_into($table).values($rows).execute(c),
            DbConnection::Postgres(c) => diesel::insert_into($table).values($rows).execute(c),
        }
    };
}

fn insert_batch(conn: &mut DbConnection, items: Vec<Synthetic>) -> anyhow::Result<()> {
    let rows: Vec<&NewArticle> = items.iter().map(|i| &i.article).collect();
    let ids: Vec<(i64, String)> = match conn {
        // SQLite runs one cached statement per article: a multi-row insert
        // whose triggers fill the full-text index builds a large statement
        // journal and is several times slower.
        DbConnection::Sqlite(c) => rows
            .into_iter()
            .map(|row| {
                diesel::insert_into(schema::articles::table)
                    .values(row)
                    .returning((schema::articles::id, schema::articles::slug))
                    .get_result(c)
            })
            .collect::<Result<_, _>>()?,
        DbConnection::Postgres(c) => diesel::insert_into(schema::articles::table)
            .values(rows)
            .returning((schema::articles::id, schema::articles::slug))
            .get_results(c)?,
    };
    // RETURNING order is not promised: match the rows back by slug.
    let by_slug: std::collections::HashMap<&str, i64> =
        ids.iter().map(|(id, slug)| (slug.as_str(), *id)).collect();
    let mut links = Vec::new();
    let mut revisions = Vec::new();
    for item in &items {
        let id = *by_slug
            .get(item.article.content.slug.as_str())
            .ok_or_else(|| anyhow::anyhow!("an inserted article was not returned"))?;
        for (pos, tag) in item.tags.iter().enumerate() {
            links.push((
                article_tags::article_id.eq(id),
                article_tags::tag_id.eq(*tag),
                article_tags::position.eq(i32::try_from(pos).unwrap_or(0)),
            ));
        }
        revisions.push((
            article_revisions::article_id.eq(id),
            article_revisions::version.eq(1i64),
            article_revisions::title.eq(item.article.content.title.as_str()),
            article_revisions::editor_id.eq(item.article.content.author_id),
            article_revisions::snapshot.eq(item.snapshot.as_str()),
            article_revisions::created_at.eq(item.article.created_at),
        ));
    }
    insert_rows!(conn, article_tags::table, &links)?;
    insert_rows!(conn, article_revisions::table, &revisions)?;
    Ok(())
}

/// Whether the site has no article yet (`serve --demo` seeds only then).
pub fn is_empty(conn: &mut DbConnection) -> anyhow::Result<bool> {
    Ok(!articles::any(conn)?)
}
