"""antt-bot: a chatbot for the "toàn dân bảo vệ an ninh Tổ quốc" movement in schools."""
