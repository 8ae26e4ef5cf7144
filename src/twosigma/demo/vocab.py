"""Names and words the demo data is made of."""

from __future__ import annotations

# (code, name, locale, time zone, [(university name, web domain)], first names, last names)
COUNTRIES: list[tuple[str, str, str, str, list[tuple[str, str]], list[str], list[str]]] = [
    (
        "US",
        "United States",
        "en",
        "America/New_York",
        [
            ("Riverside Institute of Technology", "rit"),
            ("Lakeshore State University", "lsu"),
            ("Pacific Coast University", "pcu"),
            ("Great Plains College", "gpc"),
        ],
        ["James", "Mary", "Olivia", "Liam", "Emma", "Noah", "Ava", "Ethan", "Sophia", "Mason", "Mia", "Lucas"],
        ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson", "Moore"],
    ),
    (
        "GB",
        "United Kingdom",
        "en",
        "Europe/London",
        [
            ("University of Northbridge", "northbridge"),
            ("Kingsford College London", "kingsford"),
            ("Highland University", "highland"),
        ],
        ["Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Freya", "Charlie", "Poppy"],
        ["Taylor", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Hughes", "Edwards", "Green", "Hall"],
    ),
    (
        "DE",
        "Germany",
        "de",
        "Europe/Berlin",
        [
            ("Technische Hochschule Rheinland", "th-rheinland"),
            ("Universität Nordheide", "uni-nordheide"),
            ("Hochschule Isartal", "hs-isartal"),
        ],
        ["Lukas", "Anna", "Leon", "Lea", "Finn", "Hannah", "Jonas", "Lena", "Paul", "Marie", "Felix", "Sophie"],
        ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Koch"],
    ),
    (
        "JP",
        "Japan",
        "ja",
        "Asia/Tokyo",
        [("Kansai Institute of Science", "kis"), ("Tohoku Metropolitan University", "tmu")],
        ["Haruto", "Yui", "Sota", "Hina", "Yuto", "Aoi", "Riku", "Sakura", "Ren", "Mei"],
        ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi", "Kato"],
    ),
    (
        "BR",
        "Brazil",
        "pt",
        "America/Sao_Paulo",
        [("Universidade do Vale Verde", "uvv"), ("Instituto Federal do Litoral", "ifl")],
        ["Miguel", "Alice", "Arthur", "Helena", "Heitor", "Laura", "Davi", "Valentina", "Gabriel", "Sofia"],
        ["Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Costa", "Ferreira", "Almeida", "Ribeiro"],
    ),
    (
        "IN",
        "India",
        "en",
        "Asia/Kolkata",
        [("Deccan Institute of Engineering", "die"), ("Ganges Valley University", "gvu")],
        ["Aarav", "Ananya", "Vihaan", "Diya", "Arjun", "Saanvi", "Reyansh", "Isha", "Krishna", "Meera"],
        ["Sharma", "Patel", "Singh", "Kumar", "Gupta", "Reddy", "Iyer", "Nair", "Das", "Joshi"],
    ),
]

# domain → {subject: [child subjects]}
DOMAINS: dict[str, dict[str, list[str]]] = {
    "Computer Science": {
        "Programming": ["Python", "Functional Programming", "Software Testing"],
        "Algorithms": ["Graph Algorithms", "Dynamic Programming"],
        "Machine Learning": ["Deep Learning", "Natural Language Processing", "Reinforcement Learning"],
        "Systems": ["Operating Systems", "Distributed Systems", "Databases"],
    },
    "Mathematics": {
        "Calculus": ["Multivariable Calculus", "Differential Equations"],
        "Linear Algebra": ["Matrix Theory"],
        "Probability and Statistics": ["Bayesian Statistics", "Stochastic Processes"],
        "Discrete Mathematics": ["Combinatorics", "Number Theory"],
    },
    "Natural Sciences": {
        "Physics": ["Classical Mechanics", "Electromagnetism", "Quantum Mechanics"],
        "Chemistry": ["Organic Chemistry", "Physical Chemistry"],
        "Biology": ["Genetics", "Cell Biology", "Ecology"],
    },
    "Business and Economics": {
        "Economics": ["Microeconomics", "Macroeconomics", "Econometrics"],
        "Finance": ["Corporate Finance", "Financial Markets"],
        "Management": ["Project Management", "Entrepreneurship"],
    },
    "Humanities": {
        "History": ["Ancient History", "Modern History"],
        "Philosophy": ["Ethics", "Logic"],
        "Languages": ["Academic Writing", "Spanish", "Japanese"],
    },
}

DEPARTMENTS = [
    ("Computer Science", "CS"),
    ("Mathematics", "MATH"),
    ("Physics", "PHYS"),
    ("Economics", "ECON"),
    ("Biology", "BIO"),
    ("Chemistry", "CHEM"),
    ("Philosophy", "PHIL"),
    ("Business School", "BUS"),
    ("History", "HIST"),
    ("Languages", "LANG"),
]

# name, label, description, weight among new items, estimated seconds (min, max)
CONTENT_TYPES: list[tuple[str, str, str, int, tuple[int, int]]] = [
    ("video", "Video", "A recorded lecture or demonstration.", 30, (300, 1500)),
    ("reading", "Reading", "Text to read: notes, an article or a book chapter.", 30, (300, 1200)),
    ("quiz", "Quiz", "Multiple-choice questions that check understanding.", 15, (300, 900)),
    ("exercise", "Exercise", "A problem to solve, with hints.", 15, (600, 2400)),
    ("lab", "Lab", "A hands-on session in a prepared environment.", 5, (1800, 5400)),
    ("discussion", "Discussion", "A question to discuss with peers and the tutor.", 5, (300, 900)),
]

# Which subjects (the second level of DOMAINS: their children are what courses teach) each department teaches, so
# that a physics department offers physics.
DEPARTMENT_SUBJECTS: dict[str, tuple[str, ...]] = {
    "CS": ("Programming", "Algorithms", "Machine Learning", "Systems"),
    "MATH": ("Calculus", "Linear Algebra", "Probability and Statistics", "Discrete Mathematics"),
    "PHYS": ("Physics",),
    "ECON": ("Economics",),
    "BIO": ("Biology",),
    "CHEM": ("Chemistry",),
    "PHIL": ("Philosophy",),
    "BUS": ("Finance", "Management"),
    "HIST": ("History",),
    "LANG": ("Languages",),
}

# Course title prefixes by level (CourseLevel values): an "Introduction to" is never an expert course.
COURSE_PREFIXES: dict[str, tuple[str, ...]] = {
    "INTRODUCTORY": ("Introduction to", "Foundations of", "Principles of", "Practical"),
    "INTERMEDIATE": ("Applied", "Modern", "Computational", "Practical", "Topics in"),
    "ADVANCED": ("Advanced", "Topics in", "Computational"),
    "EXPERT": ("Seminar in", "Research Topics in"),
}
TOPIC_WORDS = [
    "Core Concepts",
    "Models and Methods",
    "Worked Examples",
    "Key Results",
    "Case Studies",
    "Proof Techniques",
    "Data and Evidence",
    "Common Pitfalls",
    "Tools of the Trade",
    "Problem Solving",
    "Historical Context",
    "Limits and Trade-offs",
    "Estimation",
    "Visual Intuition",
    "Formal Definitions",
    "Applications",
    "Review and Practice",
    "Connections",
    "Design Choices",
    "Experiments",
]
VERBS = ["Explain", "Apply", "Compare", "Derive", "Evaluate", "Identify", "Interpret", "Use", "Analyse", "Describe"]

USER_QUESTIONS = [
    "I don't really get {topic}. Can you explain it differently?",
    "Why does {topic} matter here?",
    "Can you check my reasoning? I think the answer depends on {topic}.",
    "What is the difference between {topic} and what we saw last week?",
    'I\'m stuck on the second part of "{title}". Any hint?',
    "Is there an everyday example of {topic}?",
    "How would this show up in an exam question?",
    "I tried it and got a different result. Where could I have gone wrong?",
]
ASSISTANT_REPLIES = [
    "Good question. Before I explain, what do you already know about {topic}? Try to put it in one sentence.",
    "Let's take it one step at a time. What happens in the simplest case you can think of?",
    'You\'re close. Look again at the first assumption in "{title}" - does it still hold in your case?',
    "Think of {topic} as a recipe: which ingredient changes the result the most? Why?",
    "Nice reasoning so far. Can you restate the idea in your own words and apply it to a new example?",
    "Here's a hint: compare the two cases side by side. What stays the same, and what changes?",
    "That's a common mix-up. What would you expect to see if your answer were right?",
]
FEEDBACK_COMMENTS = ["Very helpful, thanks!", "Clear hint.", "Too vague.", "It gave away too much.", None, None]
NOTES = [
    "Remember: check the assumptions first.",
    "Good analogy - reuse it in the exam.",
    "Ask in office hours about this.",
    "Key idea: start from the simplest case.",
]

FEATURE_REQUESTS = [
    ("Dark mode", "Studying at night would be easier on the eyes with a dark theme."),
    ("Offline downloads", "Let me download readings and videos to study on the train."),
    ("Export my notes", "I'd like to export all my tutor notes as Markdown or PDF."),
    ("Calendar integration", "Show offering deadlines in Google Calendar / Outlook."),
    ("Voice input for the tutor", "Sometimes it's faster to ask the tutor a question out loud."),
    ("Progress reminders", "A weekly email that tells me where I left off in each course."),
    ("LaTeX in chat", "Render formulas in tutor replies properly."),
    ("Study groups", "Let classmates in the same offering form small groups and share notes."),
    ("Instructor analytics per module", "Show instructors which modules students get stuck on."),
    ("Keyboard shortcuts", "Navigate the course tree and chat without the mouse."),
]
