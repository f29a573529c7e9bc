"""What both jobs share and that knows no job: model builders, the training recipe and
its distribution, resumable training, the learning-rate range test, gradient health,
run directories and their safety checks, and the parts reports are made of."""
