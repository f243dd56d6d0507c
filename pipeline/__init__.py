"""Bienvenue's NLU components: Rasa's own, loaded more cheaply (config.yml names them by module path).

They keep the class names of the components they extend, so that everything in Rasa that finds a component
by its name (the spaCy tokenizer and featurizer look for "SpacyNLP", the model files are named after the
class) works unchanged.
"""
