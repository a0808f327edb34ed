def seed_demo_data(): return False
DEMO_PASSWORD="x"
def demo_sign_ins(): return []
