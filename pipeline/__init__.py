"""Bienvenue's NLU components (config.yml names them by module path).

- spacy_nlp, diet: Rasa's own components, loaded more cheaply. They keep the class names of the components
  they extend, so that everything in Rasa that finds a component by its name (the spaCy tokenizer and
  featurizer look for "SpacyNLP", the model files are named after the class) works unchanged.
- ensemble (with linear): a logistic regression averaged with DIET, so that two models that err differently
  decide together.
- out_of_domain: abstains when a message resembles none of its predicted intent's examples.
"""
