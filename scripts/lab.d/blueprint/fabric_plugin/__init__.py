# TEST DOUBLE of cloudify-fabric-plugin (see tasks.py): the lab's transport.
