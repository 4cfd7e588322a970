# placeholder: install rules are written in cmake/install.cmake (see issue 2)
