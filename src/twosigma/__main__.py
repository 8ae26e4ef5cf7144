from twosigma.cli import app

app(prog_name="twosigma")
