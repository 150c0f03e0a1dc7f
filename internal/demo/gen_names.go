package demo

// Word lists of the dataset generator. They are functions rather than
// package-level slices so that nothing shared can be modified; each call
// site takes its list once.

// genGivenNames and genFamilyNames have 100 entries each, so a person's
// name is one of 10,000 pairs (see personName).
func genGivenNames() []string {
	return []string{
		"Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas",
		"Mia", "Mateo", "Amelia", "Ethan", "Harper", "Levi", "Evelyn", "Sebastian", "Abigail", "Jack",
		"Emily", "Henry", "Ella", "Owen", "Scarlett", "Daniel", "Grace", "Samuel", "Chloe", "Leo",
		"Zoe", "David", "Lily", "Joseph", "Hannah", "Carter", "Nora", "Wyatt", "Layla", "John",
		"Aria", "Julian", "Riley", "Luke", "Ellie", "Asher", "Hazel", "Isaac", "Aurora", "Gabriel",
		"Violet", "Anthony", "Stella", "Dylan", "Lucy", "Lincoln", "Anna", "Thomas", "Claire", "Maverick",
		"Naomi", "Josiah", "Alice", "Aaron", "Sadie", "Charles", "Ruby", "Caleb", "Eva", "Miles",
		"Leah", "Ezra", "Maya", "Adrian", "Ivy", "Nolan", "Elena", "Aiden", "Sarah", "Hudson",
		"Ines", "Rafael", "Yuki", "Kenji", "Priya", "Arjun", "Fatima", "Omar", "Sofia", "Diego",
		"Amara", "Kwame", "Lena", "Jonas", "Freya", "Mikko", "Zara", "Tariq", "Mei", "Chen",
	}
}

func genFamilyNames() []string {
	return []string{
		"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
		"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
		"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
		"Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
		"Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
		"Patel", "Okafor", "Silva", "Martins", "Kowalski", "Novak", "Jensen", "Larsen", "Schmidt", "Muller",
		"Rossi", "Bianchi", "Dubois", "Moreau", "Tanaka", "Suzuki", "Kim", "Park", "Singh", "Khan",
		"Ali", "Cohen", "Murphy", "Kelly", "OBrien", "Walsh", "Byrne", "Fischer", "Weber", "Meyer",
		"Ivanova", "Petrov", "Horvat", "Nagy", "Popescu", "Andersson", "Nilsson", "Virtanen", "Costa", "Santos",
		"Mensah", "Owusu", "Haddad", "Aziz", "Chowdhury", "Das", "Wong", "Chan", "Lim", "Tan",
	}
}

// genCompanyWords and genCompanyKinds make customer names such as
// "Northwind Traders 0042".
func genCompanyWords() []string {
	return []string{
		"Northwind", "Contoso", "Fabrikam", "Tailspin", "Woodgrove", "Litware", "Adatum", "Proseware",
		"Lucerne", "Wingtip", "Alpine", "Coho", "Humongous", "Trey", "Fourth", "Blue Yonder",
		"Wide World", "Margies", "Graphic", "Southridge", "Relecloud", "Datum", "Consolidated", "Lamna",
		"Bellows", "Cascade", "Redwood", "Silverline", "Granite", "Harbor", "Summit", "Maple",
		"Oakridge", "Riverbend", "Sunrise", "Ironwood", "Bluebird", "Copperfield", "Evergreen", "Foxglove",
		"Highland", "Juniper", "Kestrel", "Lakeside", "Meadow", "Nimbus", "Orchard", "Pinecrest",
		"Quarry", "Rosewood", "Stonebridge", "Thistle", "Upland", "Valley", "Westbrook", "Yarrow",
	}
}

func genCompanyKinds() []string {
	return []string{
		"Traders", "Dental", "Legal", "Toys", "Accountants", "Clinic", "Builders", "Schools",
		"Publishing", "Logistics", "Bakery", "Architects", "Consulting", "Engineering", "Pharmacy", "Veterinary",
		"Insurance", "Realty", "Foods", "Motors", "Studios", "Farms", "Hotels", "Printing",
	}
}

// genMSPWords and genMSPKinds make MSP names such as "Brightwave IT 0007".
func genMSPWords() []string {
	return []string{
		"Brightwave", "Bluepeak", "Cloudline", "Netforge", "Clearpath", "Ironclad", "Skybridge", "Truenorth",
		"Bytewise", "Corelink", "Datapoint", "Everstream", "Firstline", "Greenfield", "Keystone", "Lighthouse",
	}
}

func genMSPKinds() []string {
	return []string{"IT", "Managed Services", "Networks", "Technology", "Systems", "Cloud Partners"}
}

// genGroupNames are the groups of a customer's directory; a customer with
// more groups than names gets numbered copies ("Sales 2").
func genGroupNames() []string {
	return []string{
		"All Staff", "Sales", "Engineering", "Finance", "Human Resources", "Marketing", "Support",
		"Operations", "Legal", "IT", "Management", "Warehouse", "Customer Success", "Design",
		"Procurement", "Facilities", "Security", "Interns", "Contractors", "Remote Workers",
		"London Office", "Berlin Office", "New York Office", "Board", "Project Alpha", "Project Beta",
		"Night Shift", "Field Service", "Quality", "Research", "Training", "Compliance",
	}
}

// genUserAgents are what sign-in entries record.
func genUserAgents() []string {
	return []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0",
	}
}
